/*
 * replay.c — plain main() for the fuzz targets: feeds every file of the
 * target's corpus directory to LLVMFuzzerTestOneInput once, so make check
 * replays the corpora with gcc (and under ASan/UBSan) without libFuzzer.
 *
 * Usage: fuzz_X-replay [DIR|FILE]...; with no argument it replays
 * tests/fuzz/corpus/X/ (X taken from the program name).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    /* An exactly sized heap copy, so ASan sees any read past the input. */
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int replay_path(const char *path, int *count, int *errors)
{
    struct stat st;
    struct dirent **ents;
    int n;

    if (stat(path, &st) != 0) {
        perror(path);
        (*errors)++;
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (replay_file(path) != 0)
            (*errors)++;
        else
            (*count)++;
        return 0;
    }
    n = scandir(path, &ents, NULL, alphasort);
    if (n < 0) {
        perror(path);
        (*errors)++;
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char sub[4096];
        if (ents[i]->d_name[0] != '.') {
            snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
            replay_path(sub, count, errors);
        }
        free(ents[i]);
    }
    free(ents);
    return 0;
}

int main(int argc, char **argv)
{
    int count = 0, errors = 0;
    char def[4096];
    const char *name = strrchr(argv[0], '/');

    name = name ? name + 1 : argv[0];
    if (argc < 2) {
        size_t l;
        snprintf(def, sizeof(def), "tests/fuzz/corpus/%s", name);
        l = strlen(def);
        if (l > 7 && strcmp(def + l - 7, "-replay") == 0)
            def[l - 7] = '\0';
        /* corpus dirs are named after the target without the fuzz_ prefix */
        char *p = strstr(def, "corpus/fuzz_");
        if (p != NULL)
            memmove(p + 7, p + 12, strlen(p + 12) + 1);
        replay_path(def, &count, &errors);
    }
    for (int i = 1; i < argc; i++)
        replay_path(argv[i], &count, &errors);
    /* Reaching here means no input crashed or tripped a sanitizer. */
    printf("%s: %d passed, %d failed\n", name, count, errors + (count == 0));
    return errors || count == 0 ? 1 : 0;
}
