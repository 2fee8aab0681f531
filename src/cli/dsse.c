/* pixiu dsse: DSSE v1 envelopes. Each form is a file src/cli/dsse_<form>.c. */
#include "cli/cli.h"
#include "cli_forms_dsse.h"

static int run(int argc, char **argv) { return px_cli_forms_table("dsse", px_cli_dsse_forms, argc, argv); }

const px_cli_cmd px_cli_dsse = {"dsse", "sign and verify DSSE v1 envelopes", run};
