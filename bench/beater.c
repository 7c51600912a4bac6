/*
 * The tiny child of the scale benchmark: beats once a second over vigil's heartbeat socket.
 * Connects to $VIGIL_SOCKET, writes {"service":"$VIGIL_SERVICE","token":"$VIGIL_TOKEN","type":"beat"}\n
 * every second, reconnects after an error, exits on SIGTERM (the default action) and SIGINT.
 * Built by bench/scale.bench.js with `cc -O2`; about 1 MiB of RSS per process, most of it shared.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int connect_to(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int main(void) {
  const char *path = getenv("VIGIL_SOCKET");
  const char *service = getenv("VIGIL_SERVICE");
  const char *token = getenv("VIGIL_TOKEN");
  if (!path || !service || !token) {
    fprintf(stderr, "beater: VIGIL_SOCKET, VIGIL_SERVICE and VIGIL_TOKEN must be set\n");
    return 2;
  }
  char line[512];
  int len = snprintf(line, sizeof line, "{\"service\":\"%s\",\"token\":\"%s\",\"type\":\"beat\"}\n", service, token);
  if (len <= 0 || (size_t)len >= sizeof line) return 2;
  /* SIGTERM and SIGINT keep their default action: the process ends at once */
  signal(SIGPIPE, SIG_IGN);
  int fd = -1;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (;;) {
    /* a broken connection is replaced at once, and this beat sent again, once per second at most */
    for (int attempt = 0; attempt < 2; attempt++) {
      if (fd < 0) fd = connect_to(path);
      if (fd < 0) break;
      if (write_all(fd, line, (size_t)len) == 0) break;
      close(fd);
      fd = -1;
    }
    next.tv_sec += 1;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0) {
    }
  }
}
