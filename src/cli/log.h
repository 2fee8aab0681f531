/* What the forms of `pixiu log` (src/cli/log_*.c) share. */
#ifndef PIXIU_CLI_LOG_H
#define PIXIU_CLI_LOG_H

#include <signal.h>

#include "cli/cli.h"
#include "pixiu/log.h"

#define PX_CLI_LOG_RESP_MAX (64u << 20)

/* GET or POST url+path; 2xx is success, anything else an error naming the
 * server's message. */
int px_cli_log_call(const char *method, const char *url, const char *path, const void *body, size_t len,
                    px_buf *out, px_err *err);
/* The log's checkpoint note, checked against vkey when one is given. */
int px_cli_log_fetch_checkpoint(const char *url, const char *vkey, px_buf *note, px_checkpoint *cp, px_err *err);
/* "ADDR:PORT" into its parts. */
int px_cli_log_listen(const char *listen, char *addr, size_t cap, uint16_t *port);
/* Block SIGTERM and SIGINT (before any thread starts) so sigwait can take them. */
void px_cli_log_block_signals(sigset_t *stop);
/* Write the port to port_file (if any) and print where the service listens. */
int px_cli_log_announce(const char *what, const char *addr, px_http_server *srv, const char *port_file,
                        px_err *err);

#endif
