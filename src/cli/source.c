/* pixiu source: what a data source (a device, a bank) does: make its key and
 * sign records. Each form is a file src/cli/source_<form>.c. */
#include "cli/cli.h"
#include "cli_forms_source.h"

static int run(int argc, char **argv) { return px_cli_forms_table("source", px_cli_source_forms, argc, argv); }

const px_cli_cmd px_cli_source = {"source", "a data source: make a source key, sign records", run};
