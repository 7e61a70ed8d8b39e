/* sig: the one way commands catch Ctrl-C and termination. */
#ifndef PANCAKE_SIG_H
#define PANCAKE_SIG_H

/*
 * Installs `fn` for SIGINT and SIGTERM, and SIGHUP too when `hup`. No
 * SA_RESTART: a blocking call the signal lands in returns EINTR, so loops
 * look at their flag at once.
 */
void sig_catch(void (*fn)(int), int hup);

#endif
