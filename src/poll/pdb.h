/* SQLite for the issuer's and the ballot box's state (not a public
 * contract): WAL with synchronous=FULL, so an answer given after a commit
 * survives a crash; files readable by the owner only. */
#ifndef PX_POLL_PDB_H
#define PX_POLL_PDB_H

#include <sqlite3.h>

#include "pixiu/poll.h"

int px_pdb_open(sqlite3 **db, const char *path, const char *schema, px_err *err);
int px_pdb_fail(sqlite3 *db, const char *what, px_err *err);
int px_pdb_exec(sqlite3 *db, const char *sql, px_err *err);
int px_pdb_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql, px_err *err);

#endif
