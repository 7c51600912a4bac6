/*
 * The crash-looping child of the peers benchmark: appends the wall-clock time of its start, in
 * nanoseconds, as one line to the file named by its first argument, then exits 1. The gaps between
 * consecutive lines are a supervisor's restart gap as the child sees it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  if (argc < 2) return 2;
  char line[32];
  int n = snprintf(line, sizeof line, "%lld\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
  int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return 2;
  if (write(fd, line, (size_t)n) != n) return 2;
  close(fd);
  return 1;
}
