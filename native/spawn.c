// vigil's spawn for Linux: posix_spawn(3) (a vfork-like clone in glibc), so starting a child does not copy
// the supervisor's page tables nor make every page it writes afterwards fault once (BENCHMARKS.md, "A
// spawn without a fork"); and a pidfd per child, watched by libuv, for its exit.
//
// spawn(file, argv, envp, cwd, fds, ipc, onExit) starts `file` (searched in envp's PATH when it has no
// slash) in a new session, signals at their defaults and none blocked, stdin on /dev/null, stdout and
// stderr on socket pairs, fds[i] on descriptor 3 + i and, with ipc, one more socket pair after them. It
// returns [pid, stdout, stderr, channel or -1] (the supervisor's ends, close-on-exec), or an errno when
// nothing was started. onExit(code, signal) comes once, when the child has exited and been reaped:
// code null with a signal number, or a code and signal 0.
//
// read(fd, onData) reads one of those ends in libuv's loop without a net.Socket (two or three streams a
// child, each with its handle, stream states and buffers, were the largest part of what a child cost the
// supervisor's memory): onData(buffer) for each chunk read, then onData(null) once at the end (end of
// file or an error), after which the descriptor is closed. stop(fd) ends the reading at once, without a
// word, and closes the descriptor; it must not be called after onData(null). When read throws (libuv
// cannot watch the descriptor), the descriptor is still the caller's to close.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

struct reader;

typedef struct {
  napi_async_context context;
  /** the readers by descriptor */
  struct reader** readers;
  int readers_size;
  /** what one read() fills, copied out into a Buffer of the size read */
  char buffer[65536];
} instance_t;

typedef struct reader {
  uv_poll_t poll;
  int fd;
  bool closing;
  napi_env env;
  instance_t* instance;
  napi_ref on_data;
} reader_t;

/** reads at most this many times a readiness, so that a child that writes without pause cannot hold the loop */
#define READS_A_TURN 8

typedef struct {
  uv_poll_t poll;
  int pidfd;
  pid_t pid;
  napi_env env;
  instance_t* instance;
  napi_ref on_exit;
} watch_t;

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) return NULL;               \
  } while (0)

static int pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

static void free_strings(char** list) {
  if (list == NULL) return;
  for (char** p = list; *p != NULL; p++) free(*p);
  free(list);
}

/** a JS string as a malloc'd C string; NULL when it is not a string */
static char* string_of(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char* out = malloc(length + 1);
  if (out == NULL) return NULL;
  napi_get_value_string_utf8(env, value, out, length + 1, &length);
  return out;
}

/** a JS array of strings as a NULL-terminated list; NULL when it is not one */
static char** strings_of(napi_env env, napi_value array) {
  uint32_t length;
  if (napi_get_array_length(env, array, &length) != napi_ok) return NULL;
  char** list = calloc(length + 1, sizeof(char*));
  if (list == NULL) return NULL;
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || (list[i] = string_of(env, item)) == NULL) {
      free_strings(list);
      return NULL;
    }
  }
  return list;
}

/**
 * Where execvp(3) in the child would find `file`: in the PATH of the child's environment, a relative
 * entry (an empty one is ".") taken from the child's working directory. 0, or an errno.
 */
static int resolve(const char* file, char* const* envp, const char* cwd, char* out, size_t size) {
  if (file[0] == '\0') return ENOENT;
  if (strchr(file, '/') != NULL) {
    if (strlen(file) >= size) return ENAMETOOLONG;
    strcpy(out, file);
    return 0;
  }
  const char* path = "/usr/bin:/bin";
  for (char* const* e = envp; *e != NULL; e++) {
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  }
  int found = ENOENT;
  for (const char* entry = path;; entry++) {
    const char* end = strchrnul(entry, ':');
    int length = (int)(end - entry);
    int written = entry[0] == '/' ? snprintf(out, size, "%.*s/%s", length, entry, file)
                                  : snprintf(out, size, "%s/%.*s/%s", cwd, length, entry, file);
    struct stat st;
    if (written > 0 && (size_t)written < size && stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(out, X_OK) == 0) return 0;
      found = EACCES;
    }
    if (*end == '\0') break;
    entry = end;
  }
  return found;
}

/** fd moved to the lowest free descriptor at or above `min`, close-on-exec; -1 on failure */
static int above(int fd, int min) {
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, min);
  close(fd);
  return moved;
}

static void close_all(int* fds, int count) {
  for (int i = 0; i < count; i++) {
    if (fds[i] >= 0) close(fds[i]);
    fds[i] = -1;
  }
}

/** calls fn(...argv) as a callback from libuv: microtasks run after it, and a throw is uncaught */
static void call_js(napi_env env, instance_t* instance, napi_ref fn, size_t argc, napi_value* argv) {
  napi_value callback, global, result;
  napi_get_reference_value(env, fn, &callback);
  napi_get_global(env, &global);
  if (napi_make_callback(env, instance->context, global, callback, argc, argv, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

static void on_closed(uv_handle_t* handle) {
  watch_t* watch = (watch_t*)handle;
  close(watch->pidfd);
  free(watch);
}

static void on_readable(uv_poll_t* poll, int status, int events) {
  (void)status;
  (void)events;
  watch_t* watch = (watch_t*)poll;
  int wstatus = 0;
  pid_t reaped = waitpid(watch->pid, &wstatus, WNOHANG);
  if (reaped == 0 || (reaped < 0 && errno == EINTR)) return;  // not yet: the next readiness tells
  uv_poll_stop(poll);
  napi_env env = watch->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[2];
  if (reaped == watch->pid && WIFSIGNALED(wstatus)) {
    napi_get_null(env, &argv[0]);
    napi_create_int32(env, WTERMSIG(wstatus), &argv[1]);
  } else {
    // reaped by someone else (reaped < 0): nothing is known of how it ended
    napi_create_int32(env, reaped == watch->pid ? WEXITSTATUS(wstatus) : -1, &argv[0]);
    napi_create_int32(env, 0, &argv[1]);
  }
  // freed by on_closed on a later phase of the loop, after the call
  uv_close((uv_handle_t*)poll, on_closed);
  call_js(env, watch->instance, watch->on_exit, 2, argv);
  napi_delete_reference(env, watch->on_exit);
  napi_close_handle_scope(env, scope);
}

static napi_value spawn(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value args[7];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "spawn(file, argv, envp, cwd, fds, ipc, onExit)");
    return NULL;
  }
  char* file = string_of(env, args[0]);
  char** argv = strings_of(env, args[1]);
  char** envp = strings_of(env, args[2]);
  char* cwd = string_of(env, args[3]);
  uint32_t fd_count = 0;
  bool ipc = false;
  napi_get_array_length(env, args[4], &fd_count);
  napi_get_value_bool(env, args[5], &ipc);
  napi_value result = NULL;
  int error = 0;
  // the supervisor's ends (0..2) and the child's (3..5), then the given descriptors' copies
  int ends[6] = {-1, -1, -1, -1, -1, -1};
  int* copies = calloc(fd_count + 1, sizeof(int));
  uint32_t copied = 0;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  bool actions_made = false, attr_made = false;
  char path[4096];
  if (file == NULL || argv == NULL || envp == NULL || cwd == NULL || copies == NULL) {
    napi_throw_type_error(env, NULL, "spawn: bad arguments");
    goto done;
  }
  if ((error = resolve(file, envp, cwd, path, sizeof path)) != 0) goto done;
  // every descriptor the child gets is moved above the ones it is given as, so that no dup2 overwrites
  // one that a later dup2 reads
  int first_free = 3 + (int)fd_count + 1;
  for (int i = 0; i < (ipc ? 3 : 2); i++) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      error = errno;
      goto done;
    }
    ends[i] = pair[0];
    if ((ends[3 + i] = above(pair[1], first_free)) < 0) {
      error = errno;
      goto done;
    }
  }
  for (; copied < fd_count; copied++) {
    napi_value item;
    int32_t fd = -1;
    napi_get_element(env, args[4], copied, &item);
    napi_get_value_int32(env, item, &fd);
    if ((copies[copied] = fcntl(fd, F_DUPFD_CLOEXEC, first_free)) < 0) {
      error = errno;
      goto done;
    }
  }
  posix_spawn_file_actions_init(&actions);
  actions_made = true;
  posix_spawn_file_actions_addchdir_np(&actions, cwd);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, ends[3], 1);
  posix_spawn_file_actions_adddup2(&actions, ends[4], 2);
  for (uint32_t i = 0; i < fd_count; i++) posix_spawn_file_actions_adddup2(&actions, copies[i], 3 + (int)i);
  if (ipc) posix_spawn_file_actions_adddup2(&actions, ends[5], 3 + (int)fd_count);
  posix_spawnattr_init(&attr);
  attr_made = true;
  sigset_t none, all;
  sigemptyset(&none);
  // every signal back to its default, glibc's own two (32 and 33) included: sigfillset leaves them out,
  // and its posix_spawn then sets them to SIG_IGN in the child, which the exec'd program would inherit
  // (a fork and exec, as node:child_process does, leaves none ignored). The set is copied as it is.
  memset(&all, 0xff, sizeof all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  error = posix_spawn(&pid, path, &actions, &attr, argv, envp);
  if (error == ENOEXEC) {
    // no #! line: run by the shell, as execvp(3) does
    size_t count = 0;
    while (argv[count] != NULL) count++;
    char** shell = calloc(count + 2, sizeof(char*));
    if (shell == NULL) {
      error = ENOMEM;
      goto done;
    }
    shell[0] = "/bin/sh";
    shell[1] = path;
    for (size_t i = 1; i < count; i++) shell[i + 1] = argv[i];
    error = posix_spawn(&pid, "/bin/sh", &actions, &attr, shell, envp);
    free(shell);
  }
  if (error != 0) goto done;
  watch_t* watch = calloc(1, sizeof(watch_t));
  int pidfd = pidfd_open(pid);
  uv_loop_t* loop;
  napi_get_uv_event_loop(env, &loop);
  int watch_error = watch == NULL ? ENOMEM : pidfd < 0 ? errno : 0;
  if (watch_error == 0 && (watch_error = -uv_poll_init(loop, &watch->poll, pidfd)) == 0) {
    watch_error = -uv_poll_start(&watch->poll, UV_READABLE, on_readable);
    if (watch_error != 0) {
      // closed on a later turn; on_closed closes the pidfd and frees the watch
      watch->pidfd = pidfd;
      uv_close((uv_handle_t*)&watch->poll, on_closed);
      watch = NULL;
      pidfd = -1;
    }
  }
  if (watch_error != 0) {
    // a child that cannot be watched is not left running unseen
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (pidfd >= 0) close(pidfd);
    free(watch);
    error = watch_error;
    goto done;
  }
  watch->pidfd = pidfd;
  watch->pid = pid;
  watch->env = env;
  napi_get_instance_data(env, (void**)&watch->instance);
  napi_create_reference(env, args[6], 1, &watch->on_exit);
  napi_create_array_with_length(env, 4, &result);
  int32_t out[4] = {pid, ends[0], ends[1], ipc ? ends[2] : -1};
  for (uint32_t i = 0; i < 4; i++) {
    napi_value n;
    napi_create_int32(env, out[i], &n);
    napi_set_element(env, result, i, n);
  }
  ends[0] = ends[1] = ends[2] = -1;  // the caller's now
done:
  if (result == NULL && error != 0) {
    close_all(ends, 3);
    napi_create_int32(env, error, &result);
  }
  close_all(ends + 3, 3);
  if (copies != NULL) close_all(copies, (int)copied);
  if (actions_made) posix_spawn_file_actions_destroy(&actions);
  if (attr_made) posix_spawnattr_destroy(&attr);
  free(copies);
  free(file);
  free(cwd);
  free_strings(argv);
  free_strings(envp);
  return result;
}

static void on_reader_closed(uv_handle_t* handle) {
  reader_t* reader = (reader_t*)handle;
  if (reader->fd >= 0) close(reader->fd);
  napi_delete_reference(reader->env, reader->on_data);
  free(reader);
}

/** stops reading and closes; with `tell`, onData(null) first */
static void finish(reader_t* reader, bool tell) {
  if (reader->closing) return;
  reader->closing = true;
  reader->instance->readers[reader->fd] = NULL;
  uv_poll_stop(&reader->poll);
  if (tell) {
    napi_value null;
    napi_get_null(reader->env, &null);
    call_js(reader->env, reader->instance, reader->on_data, 1, &null);
  }
  uv_close((uv_handle_t*)&reader->poll, on_reader_closed);
}

static void on_read_ready(uv_poll_t* poll, int status, int events) {
  (void)events;
  reader_t* reader = (reader_t*)poll;
  napi_env env = reader->env;
  instance_t* instance = reader->instance;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  for (int i = 0; i < READS_A_TURN && !reader->closing; i++) {
    ssize_t n = status < 0 ? 0 : read(reader->fd, instance->buffer, sizeof instance->buffer);
    if (n > 0) {
      napi_value chunk;
      void* data;
      napi_create_buffer_copy(env, (size_t)n, instance->buffer, &data, &chunk);
      call_js(env, instance, reader->on_data, 1, &chunk);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // the end of the stream, or an error (the other end reset): the end either way
    finish(reader, true);
  }
  napi_close_handle_scope(env, scope);
}

static napi_value read_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  int32_t fd = -1;
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  instance_t* instance;
  CHECK(napi_get_instance_data(env, (void**)&instance));
  if (argc < 2 || napi_get_value_int32(env, args[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "read(fd, onData)");
    return NULL;
  }
  if (fd >= instance->readers_size) {
    int size = instance->readers_size == 0 ? 1024 : instance->readers_size;
    while (size <= fd) size *= 2;
    reader_t** grown = realloc(instance->readers, (size_t)size * sizeof(reader_t*));
    if (grown == NULL) {
      napi_throw_error(env, NULL, "read: out of memory");
      return NULL;
    }
    memset(grown + instance->readers_size, 0, (size_t)(size - instance->readers_size) * sizeof(reader_t*));
    instance->readers = grown;
    instance->readers_size = size;
  }
  reader_t* reader = calloc(1, sizeof(reader_t));
  uv_loop_t* loop;
  napi_get_uv_event_loop(env, &loop);
  int flags = fcntl(fd, F_GETFL);
  if (reader == NULL || flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || uv_poll_init(loop, &reader->poll, fd) != 0) {
    free(reader);
    napi_throw_error(env, NULL, "read: cannot watch the descriptor");
    return NULL;
  }
  reader->fd = fd;
  reader->env = env;
  reader->instance = instance;
  napi_create_reference(env, args[1], 1, &reader->on_data);
  instance->readers[fd] = reader;
  if (uv_poll_start(&reader->poll, UV_READABLE | UV_DISCONNECT, on_read_ready) != 0) {
    // the descriptor stays the caller's, as when the watch could not be made at all
    reader->closing = true;
    reader->fd = -1;
    instance->readers[fd] = NULL;
    uv_close((uv_handle_t*)&reader->poll, on_reader_closed);
    napi_throw_error(env, NULL, "read: cannot watch the descriptor");
  }
  return NULL;
}

static napi_value stop_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  int32_t fd = -1;
  CHECK(napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  instance_t* instance;
  CHECK(napi_get_instance_data(env, (void**)&instance));
  if (argc >= 1 && napi_get_value_int32(env, arg, &fd) == napi_ok && fd >= 0 && fd < instance->readers_size && instance->readers[fd] != NULL) {
    finish(instance->readers[fd], false);
  }
  return NULL;
}

/** true when this kernel gives pidfds (5.3 and later) */
static napi_value supported(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = pidfd_open(getpid());
  napi_value result;
  napi_get_boolean(env, fd >= 0, &result);
  if (fd >= 0) close(fd);
  return result;
}

static void finalize_instance(napi_env env, void* data, void* hint) {
  (void)hint;
  instance_t* instance = data;
  napi_async_destroy(env, instance->context);
  free(instance->readers);
  free(instance);
}

NAPI_MODULE_INIT() {
  instance_t* instance = calloc(1, sizeof(instance_t));
  napi_value name, fn;
  CHECK(napi_create_string_utf8(env, "vigil.spawn", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &instance->context));
  CHECK(napi_set_instance_data(env, instance, finalize_instance, NULL));
  CHECK(napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, spawn, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "spawn", fn));
  CHECK(napi_create_function(env, "read", NAPI_AUTO_LENGTH, read_fd, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "read", fn));
  CHECK(napi_create_function(env, "stop", NAPI_AUTO_LENGTH, stop_fd, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "stop", fn));
  CHECK(napi_create_function(env, "supported", NAPI_AUTO_LENGTH, supported, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "supported", fn));
  return exports;
}
