/*
 * gitlab-fargate-run: the driver's `custom run SCRIPT STAGE` and `custom cleanup` without Node, for config.toml's
 * `run_exec` and `cleanup_exec` (which of the two, it tells by its arguments, as the driver does).
 *
 * A job's SSH multiplexer (src/ssh/mux/, started by prepare) already holds the connection to the task and decides
 * everything about a stage: which container and command (stageExecution), and what its end means (it records the
 * outcome in the state file and says which exit code it is). This client only relays bytes over the multiplexer's
 * Unix socket (the frames of src/ssh/mux/protocol.ts): it sends the request and the script, writes the output frames
 * to fd 1 and 2 in the order they come, forwards SIGTERM/SIGINT as a Cancel, and exits as the Node stage would
 * ($BUILD_FAILURE_EXIT_CODE with the script's code in $BUILD_EXIT_CODE_FILE, else $SYSTEM_FAILURE_EXIT_CODE).
 *
 * Whenever nothing ran yet and anything is unusual (no socket variable, no multiplexer, "unavailable", a frame it does
 * not expect, odd arguments), it becomes the Node driver with the same arguments (execv), which handles every case.
 * The request names the driver TOML of `--config`, so the multiplexer ends the last stage with the job's summary. Once the multiplexer said "started", it never does: a script never
 * runs twice.
 *
 * Cleanup: the multiplexer runs the driver's own cleanup (its `main`, with this client's arguments, environment and
 * working directory) and relays its output, then stops. Cleanup is never cancelled (SIGTERM/SIGINT are ignored, as
 * the Node cleanup does), and it always happens: whenever the multiplexer does not answer with a Result, even after
 * it started (it died, or was killed), the client becomes the Node cleanup, which is idempotent (the task stopped, the
 * state gone: nothing to do).
 *
 * Build: cc -O2 -static -o gitlab-fargate-run run-client.c (native/build.sh). Linux only (ppoll).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The names the config stage sets through job_env (NATIVE_CLIENT_ENV in src/ssh/mux/protocol.ts). */
#define ENV_SOCKET "GITLAB_FARGATE_MUX_SOCKET"
#define ENV_NODE "GITLAB_FARGATE_NODE"
#define ENV_DRIVER_SCRIPT "GITLAB_FARGATE_DRIVER_SCRIPT"
/* Without them: the driver's command on PATH. */
#define DRIVER_COMMAND "gitlab-fargate-driver"
#define SAY_PREFIX "gitlab-fargate-driver: "

/* The driver's default --config (src/args.ts), relative to the working directory. */
#define DEFAULT_CONFIG "config.toml"

/* FrameType in src/ssh/mux/protocol.ts. */
enum {
  FRAME_REQUEST = 1,
  FRAME_STDIN = 2,
  FRAME_STDIN_END = 3,
  FRAME_CANCEL = 4,
  FRAME_CLEANUP = 5,
  FRAME_STDOUT = 11,
  FRAME_STDERR = 12,
  FRAME_RESULT = 13,
  FRAME_ERROR = 14,
  FRAME_UNAVAILABLE = 15,
  FRAME_STARTED = 16,
};
#define HEADER_BYTES 5
#define MAX_PAYLOAD_BYTES (16u * 1024u * 1024u)
#define STDIN_CHUNK 65536
/* The Node client's defaults (src/ssh/mux/client.test.ts checks they match): DEFAULT_GRACE_MS of src/ssh/exec.ts,
 * CANCEL_ANSWER_MARGIN_MS of src/ssh/mux/client.ts. */
#define GRACE_MS 10000
#define CANCEL_ANSWER_MARGIN_MS 5000
/* How long a cleanup waits for the multiplexer's Started before it runs the Node cleanup instead. */
#define CLEANUP_START_MS 10000
#define CLEANUP_STAGE "cleanup"

extern char **environ;

static int saved_argc;
static char **saved_argv;
static int build_code = 1, system_code = 2;
static volatile sig_atomic_t caught_signal;
/* This process is cleanup_exec: never cancelled, and always ends in a cleanup (the multiplexer's, else Node's). */
static int cleanup_mode;

static void on_signal(int number) {
  if (caught_signal == 0) caught_signal = number;
}

static void say(const char *text) {
  dprintf(2, SAY_PREFIX "%s\n", text);
}

/* How the Node stage words a cancel (Cancelled in src/errors.ts). */
static void exit_cancelled(const char *stage) {
  if (caught_signal != 0) {
    dprintf(2, SAY_PREFIX "cancelled by %s (the job was cancelled or timed out)\n", caught_signal == SIGINT ? "SIGINT" : "SIGTERM");
  } else {
    dprintf(2, SAY_PREFIX "stage %s cancelled\n", stage);
  }
  exit(system_code);
}

/* Becomes the Node driver with our arguments: the stage as if this client did not exist. Nothing ran yet. */
static void fall_back(const char *stage) {
  if (caught_signal != 0 && !cleanup_mode) exit_cancelled(stage);
  /* Node sets its own handlers; a mask or an ignored signal would outlive execv. */
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char **args = calloc((size_t)saved_argc + 2, sizeof *args);
  if (args == NULL) exit(system_code);
  const char *node = getenv(ENV_NODE), *script = getenv(ENV_DRIVER_SCRIPT);
  for (int i = 1; i < saved_argc; i++) args[i + 1] = saved_argv[i];
  if (node != NULL && *node != '\0' && script != NULL && *script != '\0') {
    args[0] = (char *)node;
    args[1] = (char *)script;
    execv(node, args);
  }
  args[1] = DRIVER_COMMAND;
  execvp(DRIVER_COMMAND, args + 1);
  dprintf(2, SAY_PREFIX "cannot start the Node driver (%s, else %s on PATH): %s\n", node != NULL ? node : ENV_NODE " unset",
          DRIVER_COMMAND, strerror(errno));
  exit(system_code);
}

/* An exit code variable as src/job/environment.ts reads it: unset or empty → the default; 1-255 → it; else -1. */
static int exit_code_variable(const char *name, int fallback) {
  const char *raw = getenv(name);
  if (raw == NULL || *raw == '\0') return fallback;
  while (*raw == ' ' || *raw == '\t') raw++;
  char *end;
  errno = 0;
  long value = strtol(raw, &end, 10);
  while (*end == ' ' || *end == '\t' || *end == '\n') end++;
  if (errno != 0 || end == raw || *end != '\0' || raw[0] == '-' || raw[0] == '+' || value < 1 || value > 255) return -1;
  return (int)value;
}

/* ---- a growing byte buffer ---- */

struct buffer {
  unsigned char *data;
  size_t length, capacity;
};

static void buffer_append(struct buffer *b, const void *bytes, size_t n) {
  if (b->length + n > b->capacity) {
    size_t capacity = b->capacity == 0 ? 4096 : b->capacity;
    while (capacity < b->length + n) capacity *= 2;
    unsigned char *grown = realloc(b->data, capacity);
    if (grown == NULL) {
      say("out of memory");
      exit(system_code);
    }
    b->data = grown;
    b->capacity = capacity;
  }
  memcpy(b->data + b->length, bytes, n);
  b->length += n;
}

static void buffer_consume(struct buffer *b, size_t n) {
  memmove(b->data, b->data + n, b->length - n);
  b->length -= n;
}

static void append_frame(struct buffer *out, int type, const void *payload, size_t n) {
  unsigned char header[HEADER_BYTES] = {(unsigned char)type, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                                        (unsigned char)(n >> 8), (unsigned char)n};
  buffer_append(out, header, sizeof header);
  if (n > 0) buffer_append(out, payload, n);
}

/* ---- the multiplexer's JSON answers: one flat object of strings, numbers and booleans ---- */

struct answer {
  int has_exit_code, exit_code;
  int has_script_exit_code, script_exit_code;
  int cancelled;
  char *message; /* Result.message or the { message } of Error/Unavailable */
};

static void put_utf8(struct buffer *b, unsigned long c) {
  unsigned char bytes[4];
  size_t n;
  if (c < 0x80) { bytes[0] = (unsigned char)c; n = 1; }
  else if (c < 0x800) { bytes[0] = (unsigned char)(0xC0 | c >> 6); bytes[1] = (unsigned char)(0x80 | (c & 0x3F)); n = 2; }
  else if (c < 0x10000) { bytes[0] = (unsigned char)(0xE0 | c >> 12); bytes[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F)); bytes[2] = (unsigned char)(0x80 | (c & 0x3F)); n = 3; }
  else { bytes[0] = (unsigned char)(0xF0 | c >> 18); bytes[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F)); bytes[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F)); bytes[3] = (unsigned char)(0x80 | (c & 0x3F)); n = 4; }
  buffer_append(b, bytes, n);
}

static int hex4(const char *p, unsigned long *value) {
  *value = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (digit < 0) return 0;
    *value = *value << 4 | (unsigned long)digit;
  }
  return 1;
}

/* Reads the JSON string at *p (after its opening quote) into a NUL-terminated copy; NULL when malformed. */
static char *json_string(const char **p, const char *end) {
  struct buffer text = {0};
  const char *s = *p;
  unsigned long code;
  while (s < end && *s != '"') {
    if (*s != '\\') { buffer_append(&text, s++, 1); continue; }
    if (++s >= end) break;
    char escape = *s++;
    const char *plain = strchr("\"\\/bfnrt", escape);
    if (plain != NULL && escape != '\0') {
      buffer_append(&text, &"\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"], 1);
    } else if (escape == 'u' && end - s >= 4 && hex4(s, &code)) {
      unsigned long c = code;
      s += 4;
      unsigned long low;
      if (c >= 0xD800 && c < 0xDC00 && end - s >= 6 && s[0] == '\\' && s[1] == 'u' && hex4(s + 2, &low) && low >= 0xDC00 && low < 0xE000) {
        c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        s += 6;
      }
      put_utf8(&text, c);
    } else {
      break;
    }
  }
  if (s >= end || *s != '"') { free(text.data); return NULL; }
  *p = s + 1;
  buffer_append(&text, "", 1);
  return (char *)text.data;
}

/*
 * Reads the JSON number at *p (a '-' or a digit) without looking past end, and moves *p past it. 1 with *value when
 * it is an integer of at most 10 digits; 0 for a fraction, an exponent or a longer one (still skipped).
 */
static int json_integer(const char **p, const char *end, long long *value) {
  const char *s = *p;
  int negative = *s == '-';
  if (negative) s++;
  long long magnitude = 0;
  int digits = 0, integer = 1;
  for (; s < end && *s >= '0' && *s <= '9'; s++) {
    if (++digits <= 10) magnitude = magnitude * 10 + (*s - '0');
  }
  for (; s < end && *s != '\0' && strchr("0123456789.eE+-", *s) != NULL; s++) integer = 0; /* a fraction: not ours */
  *p = s;
  *value = negative ? -magnitude : magnitude;
  return integer && digits >= 1 && digits <= 10;
}

/* Parses {"key":value,...}; values other than the ones we read are skipped when they are scalars. 0 when malformed. */
static int parse_answer(const char *json, size_t n, struct answer *a) {
  const char *p = json, *end = json + n;
#define SKIP_SPACE() while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++
  SKIP_SPACE();
  if (p >= end || *p++ != '{') return 0;
  for (;;) {
    SKIP_SPACE();
    if (p < end && *p == '}') return 1;
    if (p >= end || *p++ != '"') return 0;
    char *key = json_string(&p, end);
    if (key == NULL) return 0;
    SKIP_SPACE();
    if (p >= end || *p++ != ':') { free(key); return 0; }
    SKIP_SPACE();
    if (p < end && *p == '"') {
      p++;
      char *value = json_string(&p, end);
      if (value == NULL) { free(key); return 0; }
      if (strcmp(key, "message") == 0) { free(a->message); a->message = value; } else free(value);
    } else if (p < end && (*p == '-' || (*p >= '0' && *p <= '9'))) {
      long long value;
      int integer = json_integer(&p, end, &value);
      int exit_code = strcmp(key, "exitCode") == 0, script_exit_code = strcmp(key, "scriptExitCode") == 0;
      /* An exit code is 0..255: anything else is not an answer of the driver's (and must never pass as 0). */
      if ((exit_code || script_exit_code) && (!integer || value < 0 || value > 255)) { free(key); return 0; }
      if (exit_code) { a->has_exit_code = 1; a->exit_code = (int)value; }
      if (script_exit_code) { a->has_script_exit_code = 1; a->script_exit_code = (int)value; }
    } else if (end - p >= 4 && strncmp(p, "true", 4) == 0) {
      p += 4;
      if (strcmp(key, "cancelled") == 0) a->cancelled = 1;
    } else if (end - p >= 5 && strncmp(p, "false", 5) == 0) {
      p += 5;
    } else if (end - p >= 4 && strncmp(p, "null", 4) == 0) {
      p += 4;
    } else {
      free(key);
      return 0;
    }
    free(key);
    SKIP_SPACE();
    if (p < end && *p == ',') { p++; continue; }
    if (p < end && *p == '}') return 1;
    return 0;
  }
#undef SKIP_SPACE
}

/* ---- relaying ---- */

/* Writes all of it to fd 1 or 2. A reader that went away (the runner killed) loses the rest, as with the Node stage. */
static void relay(int fd, const unsigned char *bytes, size_t n) {
  static int gone[3];
  while (n > 0 && !gone[fd]) {
    ssize_t written = write(fd, bytes, n);
    if (written > 0) { bytes += written; n -= (size_t)written; continue; }
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && errno == EAGAIN) {
      struct pollfd wait = {.fd = fd, .events = POLLOUT};
      poll(&wait, 1, -1);
      continue;
    }
    gone[fd] = 1;
  }
}

/* Where the command stands, as src/ssh/mux/client.ts's ClientExchange knows it. */
enum phase { REQUESTED, STARTED, ANSWERED };
enum answer_kind { NONE, RESULT, ERROR, UNAVAILABLE };

struct exchange {
  const char *stage;
  int sock, script;
  struct buffer out, in;
  int stdin_done, cancel_sent, socket_writable, script_error;
  int started; /* the multiplexer said Started (or sent output) */
  struct timespec give_up_at;
  enum phase phase;
  enum answer_kind kind;
  struct answer answer;
};

/* Takes one frame; returns 0 when the exchange cannot go on (a surprise before the start: the caller falls back). */
static int on_frame(struct exchange *x, int type, const unsigned char *payload, size_t n) {
  if (x->phase == ANSWERED) return 1;
  switch (type) {
  case FRAME_STARTED:
    x->phase = STARTED;
    x->started = 1;
    return 1;
  case FRAME_STDOUT:
  case FRAME_STDERR:
    x->phase = STARTED; /* output means it runs: never fall back after this */
    x->started = 1;
    relay(type == FRAME_STDOUT ? 1 : 2, payload, n);
    return 1;
  case FRAME_RESULT:
  case FRAME_ERROR:
  case FRAME_UNAVAILABLE:
    x->kind = type == FRAME_RESULT ? RESULT : type == FRAME_ERROR ? ERROR : UNAVAILABLE;
    if (!parse_answer((const char *)payload, n, &x->answer)) {
      if (x->phase == REQUESTED) return 0;
      x->kind = ERROR;
      free(x->answer.message);
      x->answer.message = strdup("the SSH multiplexer's answer is not what the driver expects");
    }
    x->phase = ANSWERED;
    return 1;
  default:
    return x->phase != REQUESTED; /* unknown before the start: not a multiplexer we know */
  }
}

/* Parses the complete frames read so far; 0 on a surprise before the start, -1 on a malformed stream after it. */
static int read_frames(struct exchange *x) {
  size_t used = 0;
  while (x->in.length - used >= HEADER_BYTES) {
    const unsigned char *h = x->in.data + used;
    uint32_t n = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
    if (n > MAX_PAYLOAD_BYTES) return x->phase == REQUESTED ? 0 : -1;
    if (x->in.length - used < HEADER_BYTES + (size_t)n) break;
    if (!on_frame(x, h[0], h + HEADER_BYTES, n)) return 0;
    used += HEADER_BYTES + n;
  }
  buffer_consume(&x->in, used);
  return 1;
}

/* Queues the next piece of the script (or its end) when the socket has nothing left to send. */
static void queue_stdin(struct exchange *x) {
  if (x->stdin_done || x->out.length > 0 || !x->socket_writable) return;
  unsigned char chunk[STDIN_CHUNK];
  ssize_t n;
  do n = read(x->script, chunk, sizeof chunk); while (n < 0 && errno == EINTR);
  if (n > 0) {
    append_frame(&x->out, FRAME_STDIN, chunk, (size_t)n);
    return;
  }
  x->stdin_done = 1;
  if (n == 0) append_frame(&x->out, FRAME_STDIN_END, NULL, 0);
  else x->script_error = errno; /* An unreadable script must not run half: cancelled below, as the Node client does. */
}

static void queue_cancel(struct exchange *x) {
  if (cleanup_mode) return; /* cleanup frees the task: a cancel does not stop it */
  if ((caught_signal == 0 && x->script_error == 0) || x->cancel_sent) return;
  x->cancel_sent = 1;
  append_frame(&x->out, FRAME_CANCEL, NULL, 0);
  clock_gettime(CLOCK_MONOTONIC, &x->give_up_at);
  x->give_up_at.tv_sec += (GRACE_MS + CANCEL_ANSWER_MARGIN_MS) / 1000;
}

static void send_queued(struct exchange *x) {
  ssize_t sent = send(x->sock, x->out.data, x->out.length, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent > 0) buffer_consume(&x->out, (size_t)sent);
  else if (sent < 0 && errno != EAGAIN && errno != EINTR) {
    /* The multiplexer stopped reading (it answered and closed): what it said is still to be read. */
    x->socket_writable = 0;
    x->out.length = 0;
    x->stdin_done = 1;
  }
}

/* How long ppoll may wait: until the give-up time after a cancel (or before a cleanup's start), else forever. */
static struct timespec *wait_limit(struct exchange *x, struct timespec *left) {
  if (!x->cancel_sent && !(cleanup_mode && x->phase == REQUESTED)) return NULL;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long ns = (long long)(x->give_up_at.tv_sec - now.tv_sec) * 1000000000LL + (x->give_up_at.tv_nsec - now.tv_nsec);
  if (ns < 0) ns = 0;
  left->tv_sec = (time_t)(ns / 1000000000LL);
  left->tv_nsec = (long)(ns % 1000000000LL);
  return left;
}

/* Runs the exchange until the multiplexer closes the socket (or is given up on); 0 on a surprise before the start. */
static int exchange_until_closed(struct exchange *x, const sigset_t *while_waiting) {
  for (;;) {
    queue_cancel(x);
    queue_stdin(x);
    struct pollfd p = {.fd = x->sock, .events = POLLIN | (x->out.length > 0 ? POLLOUT : 0)};
    struct timespec left;
    struct timespec *limit = wait_limit(x, &left);
    /* Given up on, as the Node client does; a cleanup that never started goes to Node. */
    if (limit != NULL && limit->tv_sec == 0 && limit->tv_nsec == 0) return !(cleanup_mode && x->phase == REQUESTED);
    int ready = ppoll(&p, 1, limit, while_waiting);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (ready == 0) continue;
    if (p.revents & POLLOUT) send_queued(x);
    if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
    unsigned char chunk[STDIN_CHUNK];
    ssize_t n = recv(x->sock, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return 1;
    buffer_append(&x->in, chunk, (size_t)n);
    int frames = read_frames(x);
    if (frames == 0) return 0;
    if (frames < 0) return 1;
  }
}

/* Appends `text` as a JSON string, quotes included. */
static void append_json_string(struct buffer *json, const char *text) {
  buffer_append(json, "\"", 1);
  for (const unsigned char *s = (const unsigned char *)text; *s != '\0'; s++) {
    if (*s == '"' || *s == '\\') { buffer_append(json, "\\", 1); buffer_append(json, s, 1); }
    else if (*s < 0x20) { char escaped[8]; snprintf(escaped, sizeof escaped, "\\u%04x", *s); buffer_append(json, escaped, 6); }
    else buffer_append(json, s, 1);
  }
  buffer_append(json, "\"", 1);
}

/*
 * The request: the stage name (the multiplexer picks the command), the driver TOML (for the last stage's summary),
 * the signal to forward and the grace period.
 */
static void queue_request(struct exchange *x, const char *config_path) {
  struct buffer json = {0};
  buffer_append(&json, "{\"stage\":", 9);
  append_json_string(&json, x->stage);
  buffer_append(&json, ",\"configPath\":", 14);
  append_json_string(&json, config_path);
  char tail[64];
  int n = snprintf(tail, sizeof tail, ",\"forwardSignal\":\"TERM\",\"graceMs\":%d}", GRACE_MS);
  buffer_append(&json, tail, (size_t)n);
  append_frame(&x->out, FRAME_REQUEST, json.data, json.length);
  free(json.data);
}

/*
 * The driver TOML as the Node stage resolves it: the last `--config PATH` or `--config=PATH` before SCRIPT STAGE,
 * else config.toml, relative to the working directory. NULL when it cannot say (the caller falls back).
 */
static char *config_path(int argc, char **argv) {
  const char *given = DEFAULT_CONFIG;
  for (int i = 1; i < argc - 2; i++) {
    if (strcmp(argv[i], "--") == 0) return NULL;
    if (strcmp(argv[i], "--config") == 0) {
      if (i + 1 >= argc - 2) return NULL;
      given = argv[++i];
    } else if (strncmp(argv[i], "--config=", 9) == 0) {
      given = argv[i] + 9;
    }
  }
  if (given[0] == '/') return strdup(given);
  char *cwd = getcwd(NULL, 0);
  if (cwd == NULL) return NULL;
  struct buffer path = {0};
  buffer_append(&path, cwd, strlen(cwd));
  buffer_append(&path, "/", 1);
  buffer_append(&path, given, strlen(given) + 1);
  free(cwd);
  return (char *)path.data;
}

/* The script's failure: its code into $BUILD_EXIT_CODE_FILE (the runner reads its first line), then the build code. */
static void exit_build_failure(int script_code) {
  const char *file = getenv("BUILD_EXIT_CODE_FILE");
  if (file != NULL && *file != '\0') {
    FILE *f = fopen(file, "w");
    int ok = f != NULL && fprintf(f, "%d\n", script_code) > 0;
    if (f != NULL && fclose(f) != 0) ok = 0;
    if (!ok) {
      dprintf(2, SAY_PREFIX "cannot write BUILD_EXIT_CODE_FILE %s: %s\n", file, strerror(errno));
      exit(system_code);
    }
  }
  exit(build_code);
}

/* Exits as the Node stage would for how the exchange ended; falls back when nothing ran. */
static void finish(struct exchange *x) {
  if (x->script_error != 0) {
    dprintf(2, SAY_PREFIX "cannot read the script: %s\n", strerror(x->script_error));
    exit(system_code);
  }
  if (x->phase == REQUESTED || x->kind == UNAVAILABLE) {
    if (x->cancel_sent) exit_cancelled(x->stage);
    close(x->sock);
    fall_back(x->stage);
  }
  if (x->cancel_sent || (x->kind == RESULT && x->answer.cancelled)) exit_cancelled(x->stage);
  if (x->kind == ERROR) {
    say(x->answer.message != NULL ? x->answer.message : "the SSH multiplexer could not run the script");
    exit(system_code);
  }
  if (x->kind == NONE) {
    /* The multiplexer ended with the task's connection before it could answer: the Node stage's words for it. */
    say("the SSH connection to the task ended before the script finished "
        "(the task may have stopped: Spot interruption, out of memory, or stopped by hand)");
    exit(system_code);
  }
  if (x->answer.has_exit_code && x->answer.exit_code == 0) exit(0);
  if (x->answer.has_script_exit_code) exit_build_failure(x->answer.script_exit_code);
  say(x->answer.message != NULL ? x->answer.message : "the SSH multiplexer's answer names no outcome");
  exit(system_code);
}

/* The stage's arguments as gitlab-runner passes them: [options] custom run SCRIPT STAGE; 0 when anything else. */
static int stage_arguments(int argc, char **argv, const char **script, const char **stage) {
  if (argc < 4) return 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "--version") || !strcmp(a, "-v")) return 0;
  }
  const char *word = argv[argc - 3];
  if (strcmp(word, "run") != 0 && strcmp(word, "r") != 0) return 0;
  *script = argv[argc - 2];
  *stage = argv[argc - 1];
  return (*script)[0] != '-' && (*stage)[0] != '-' && (*stage)[0] != '\0';
}

/* ---- cleanup ---- */

static int open_socket(const char *path);

/* The cleanup's arguments as gitlab-runner passes them: [options] custom cleanup; 0 when anything else. */
static int cleanup_arguments(int argc, char **argv) {
  if (argc < 3) return 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "--version") || !strcmp(a, "-v") || !strcmp(a, "--")) return 0;
  }
  const char *custom = argv[argc - 2], *stage = argv[argc - 1];
  return (!strcmp(custom, "custom") || !strcmp(custom, "c")) && (!strcmp(stage, "cleanup") || !strcmp(stage, "cl"));
}

/* 1 when `text` is valid UTF-8: the multiplexer reads JSON text, and must get every byte as it is, or nothing. */
static int utf8_valid(const char *text) {
  const unsigned char *s = (const unsigned char *)text;
  while (*s != '\0') {
    int extra = *s < 0x80 ? 0 : (*s & 0xE0) == 0xC0 ? 1 : (*s & 0xF0) == 0xE0 ? 2 : (*s & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0 || (extra == 1 && *s < 0xC2)) return 0;
    for (s++; extra > 0; extra--, s++) {
      if ((*s & 0xC0) != 0x80) return 0;
    }
  }
  return 1;
}

/* Appends `text` as a JSON string; 0 when it is not UTF-8 (the caller falls back). */
static int append_json_text(struct buffer *json, const char *text) {
  if (!utf8_valid(text)) return 0;
  append_json_string(json, text);
  return 1;
}

/* Appends the environment as a JSON object of strings; 0 when a variable is not UTF-8. */
static int append_json_environment(struct buffer *json) {
  buffer_append(json, "{", 1);
  int first = 1;
  for (char **entry = environ; *entry != NULL; entry++) {
    const char *equals = strchr(*entry, '=');
    if (equals == NULL || equals == *entry) continue;
    char *name = strndup(*entry, (size_t)(equals - *entry));
    if (name == NULL) return 0;
    if (!first) buffer_append(json, ",", 1);
    first = 0;
    int ok = append_json_text(json, name);
    free(name);
    if (!ok) return 0;
    buffer_append(json, ":", 1);
    if (!append_json_text(json, equals + 1)) return 0;
  }
  buffer_append(json, "}", 1);
  return 1;
}

/* The cleanup request: this process's arguments (without the program), environment and working directory. */
static int queue_cleanup_request(struct exchange *x, const char *cwd) {
  struct buffer json = {0};
  int ok = 1;
  buffer_append(&json, "{\"argv\":[", 9);
  for (int i = 1; i < saved_argc && ok; i++) {
    if (i > 1) buffer_append(&json, ",", 1);
    ok = append_json_text(&json, saved_argv[i]);
  }
  buffer_append(&json, "],\"env\":", 8);
  ok = ok && append_json_environment(&json);
  buffer_append(&json, ",\"cwd\":", 7);
  ok = ok && append_json_text(&json, cwd);
  /* When it was asked (CLOCK_MONOTONIC, which the multiplexer's process.hrtime reads too): one that reads it after
     this client gave up (CLEANUP_START_MS) must not run it as well. */
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  char sent_at[48];
  int n = snprintf(sent_at, sizeof sent_at, ",\"sentAtMs\":%lld}", (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
  buffer_append(&json, sent_at, (size_t)n);
  if (ok) append_frame(&x->out, FRAME_CLEANUP, json.data, json.length);
  free(json.data);
  return ok;
}

/* Exits with the multiplexer's cleanup's code; without one (it died, or any doubt), becomes the Node cleanup. */
static void finish_cleanup(struct exchange *x) {
  if (x->started && x->kind == RESULT && x->answer.has_exit_code && x->answer.exit_code >= 0 && x->answer.exit_code <= 255) {
    exit(x->answer.exit_code);
  }
  close(x->sock);
  if (x->started) {
    if (x->kind == ERROR && x->answer.message != NULL) say(x->answer.message);
    say("the SSH multiplexer did not finish the cleanup: cleaning up with the Node driver");
  }
  fall_back(CLEANUP_STAGE);
}

/* cleanup_exec: the job's multiplexer runs the cleanup, else Node does. Never returns. */
static void run_cleanup(const sigset_t *while_waiting) {
  cleanup_mode = 1;
  const char *socket_path = getenv(ENV_SOCKET);
  if (socket_path == NULL || *socket_path == '\0') fall_back(CLEANUP_STAGE);
  char *cwd = getcwd(NULL, 0);
  if (cwd == NULL) fall_back(CLEANUP_STAGE);
  struct exchange x = {.stage = CLEANUP_STAGE, .script = -1, .stdin_done = 1, .socket_writable = 1, .phase = REQUESTED, .kind = NONE};
  x.sock = open_socket(socket_path);
  if (x.sock < 0) fall_back(CLEANUP_STAGE);
  if (!queue_cleanup_request(&x, cwd)) {
    close(x.sock);
    fall_back(CLEANUP_STAGE);
  }
  clock_gettime(CLOCK_MONOTONIC, &x.give_up_at);
  x.give_up_at.tv_sec += CLEANUP_START_MS / 1000;
  exchange_until_closed(&x, while_waiting);
  finish_cleanup(&x);
}

static int open_socket(const char *path) {
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof address.sun_path) return -1;
  strcpy(address.sun_path, path);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  int r;
  do r = connect(sock, (struct sockaddr *)&address, sizeof address); while (r < 0 && errno == EINTR);
  if (r < 0) { close(sock); return -1; }
  return sock;
}

int main(int argc, char **argv) {
  saved_argc = argc;
  saved_argv = argv;
  /* Caught from the first instruction, delivered only inside ppoll: a cancel is never lost nor half-handled. */
  sigset_t cancels, while_waiting;
  sigemptyset(&cancels);
  sigaddset(&cancels, SIGTERM);
  sigaddset(&cancels, SIGINT);
  sigprocmask(SIG_BLOCK, &cancels, &while_waiting);
  sigdelset(&while_waiting, SIGTERM);
  sigdelset(&while_waiting, SIGINT);
  struct sigaction action = {.sa_handler = on_signal};
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  signal(SIGPIPE, SIG_IGN);

  const char *script, *stage = "";
  build_code = exit_code_variable("BUILD_FAILURE_EXIT_CODE", 1);
  system_code = exit_code_variable("SYSTEM_FAILURE_EXIT_CODE", 2);
  if (build_code < 0 || system_code < 0) {
    system_code = system_code < 0 ? 2 : system_code; /* the Node stage says what is wrong */
    fall_back(stage);
  }
  if (cleanup_arguments(argc, argv)) run_cleanup(&while_waiting);
  if (!stage_arguments(argc, argv, &script, &stage)) fall_back(stage);
  char *config = config_path(argc, argv);
  if (config == NULL) fall_back(stage);
  const char *socket_path = getenv(ENV_SOCKET);
  if (socket_path == NULL || *socket_path == '\0') fall_back(stage);
  struct exchange x = {.stage = stage, .socket_writable = 1, .phase = REQUESTED, .kind = NONE};
  struct stat info;
  x.script = open(script, O_RDONLY | O_CLOEXEC);
  if (x.script < 0 || fstat(x.script, &info) != 0 || !S_ISREG(info.st_mode)) fall_back(stage);
  x.sock = open_socket(socket_path);
  if (x.sock < 0) fall_back(stage);
  queue_request(&x, config);
  if (!exchange_until_closed(&x, &while_waiting)) {
    close(x.sock);
    fall_back(stage);
  }
  finish(&x);
  return system_code;
}
