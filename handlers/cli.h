/* The operator's command line (cli.c): fcgi-auth user ... */
#ifndef FA_CLI_H
#define FA_CLI_H

int cli_user(int argc, char **argv);

#endif
