/* pixiu lambda: trust-λ commands. Each form is a file src/cli/lambda_<form>.c;
 * their work lives in src/lambda so they stay thin. */
#include "cli/cli.h"
#include "cli_forms_lambda.h"

static int run(int argc, char **argv) { return px_cli_forms_table("lambda", px_cli_lambda_forms, argc, argv); }

const px_cli_cmd px_cli_lambda = {"lambda", "trust-λ: run wasm in the sandbox, or a full step", run};
