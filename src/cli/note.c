/* pixiu note: C2SP signed notes. Each form is a file src/cli/note_<form>.c. */
#include "cli/cli.h"
#include "cli_forms_note.h"

static int run(int argc, char **argv) { return px_cli_forms_table("note", px_cli_note_forms, argc, argv); }

const px_cli_cmd px_cli_note = {"note", "sign and verify C2SP signed notes", run};
