/*
 * replay_main.c - a plain main() for the libFuzzer targets: replays every
 * file named on the command line (directories are walked one level) through
 * LLVMFuzzerTestOneInput, so `make check` runs saved corpora and crashers
 * under gcc with ASan+UBSan. Prints one TAP line per file.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long n;

static void replay(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long len;

    if (f == NULL) {
        printf("not ok %lu - %s: cannot open\n", ++n, path);
        return;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        printf("not ok %lu - %s: cannot size\n", ++n, path);
        return;
    }
    buf = malloc((size_t)len + 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        printf("not ok %lu - %s: cannot read\n", ++n, path);
        return;
    }
    fclose(f);
    (void)LLVMFuzzerTestOneInput(buf, (size_t)len); /* a crash ends the run: that is the test */
    free(buf);
    printf("ok %lu - %s\n", ++n, path);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            while (d != NULL && (de = readdir(d)) != NULL) {
                char path[4096];
                if (de->d_name[0] == '.') {
                    continue;
                }
                snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
                replay(path);
            }
            if (d != NULL) {
                closedir(d);
            }
        } else {
            replay(argv[i]);
        }
    }
    return 0;
}
