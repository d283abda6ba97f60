/* Numbered SQL migrations, applied once each, in order (migrate.c). */
#ifndef FA_MIGRATE_H
#define FA_MIGRATE_H

int migrate_run(const char *dir);

#endif
