/* pixiu node: set up a node on a host. Each form is a file
 * src/cli/node_<form>.c. */
#include "cli/cli.h"
#include "cli_forms_node.h"

static int run(int argc, char **argv) { return px_cli_forms_table("node", px_cli_node_forms, argc, argv); }

const px_cli_cmd px_cli_node = {"node", "set up a node: its directory, keys and config", run};
