/* The static floor for `cargo bench --bench hit`: the least a C program
 * costs to start, write one line and exit, linked fully static with musl
 * (`musl-gcc -static -O2`, compiled by the bench). A static cache hit is
 * judged against it (issue 20: at most 1.5x). */
#include <unistd.h>

int main(void) {
    static const char line[] = "one line\n";
    return write(1, line, sizeof line - 1) == (ssize_t)(sizeof line - 1) ? 0 : 1;
}
