/* pixiu task: what a data consumer does with a task. Each form is a file
 * src/cli/task_<form>.c. */
#include "cli/cli.h"
#include "cli_forms_task.h"

static int run(int argc, char **argv) { return px_cli_forms_table("task", px_cli_task_forms, argc, argv); }

const px_cli_cmd px_cli_task = {"task", "build task code, or submit a task to the network", run};
