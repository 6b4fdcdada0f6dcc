/*
 * The pod sandbox's pause process: holds the pod's namespaces open, reaps the orphans a shared PID
 * namespace hands it, and exits 0 on SIGTERM or SIGINT (as kubelet and containerd expect of a pause).
 * Built static (images/pause/Containerfile runs it FROM scratch).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) {
  (void)sig;
  _exit(0);
}

static void reap(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int on(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, NULL);
}

int main(void) {
  if (getpid() != 1) fputs("pause: warning: not pid 1\n", stderr);
  if (on(SIGINT, quit) || on(SIGTERM, quit) || on(SIGCHLD, reap)) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
