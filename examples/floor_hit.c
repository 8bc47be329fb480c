/* The least a static cache hit could cost, for `cargo bench --bench hit`
 * (issue 20): a C program that makes a static `token` hit's system calls,
 * with the same paths and flags in the same order, and finds the token in
 * the cached entry with a byte search instead of parsing anything. Linked
 * static with musl like examples/floor.c; what it costs beyond that floor
 * is what the security rules' calls and the two reads cost, and what a hit
 * costs beyond it is the program itself (docs/speed.md).
 *
 *   floor_hit CONFIG_FILE CACHE_DIR CACHE_FILE
 *
 * It reads the clock as the hit does (through the vDSO) and exits 1 if any
 * call fails or the entry holds no token. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char buf[4096];

/* open, fstat, read (one byte more than the size, to see growth), close. */
static ssize_t slurp(const char *path, int walk) {
    int fd = openat(AT_FDCWD, path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size >= (off_t)sizeof buf - 1) return -1;
    if (walk) {
        /* The config file's directories, from the root down: stat("/"),
         * then lstat each ancestor, as the hit checks who may change them. */
        char dir[4096];
        struct stat up;
        size_t n = strlen(path);
        if (n >= sizeof dir || stat("/", &up) != 0) return -1;
        memcpy(dir, path, n + 1);
        char *end = strrchr(dir, '/');
        for (char *p = strchr(dir + 1, '/'); p && p <= end; p = strchr(p + 1, '/')) {
            *p = 0;
            if (lstat(dir, &up) != 0) return -1;
            *p = '/';
        }
    }
    ssize_t got = read(fd, buf, (size_t)st.st_size + 1);
    close(fd);
    return got;
}

int main(int argc, char **argv) {
    if (argc != 4) return 1;
    struct pollfd fds[3] = {{.fd = 0}, {.fd = 1}, {.fd = 2}};
    poll(fds, 3, 0);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0);
    struct stat st;
    if (slurp(argv[1], 1) < 0 || stat(argv[2], &st) != 0) return 1;
    ssize_t n = slurp(argv[3], 0);
    struct timespec now;
    if (n < 0 || clock_gettime(CLOCK_REALTIME, &now) != 0) return 1;
    buf[n] = 0;
    static const char key[] = "\"token\":\"";
    char *token = strstr(buf, key);
    if (!token) return 1;
    token += sizeof key - 1;
    char *end = strchr(token, '"');
    if (!end) return 1;
    *end = '\n';
    size_t len = (size_t)(end - token) + 1;
    return write(1, token, len) == (ssize_t)len ? 0 : 1;
}
