/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `ward system sel4 FILE --out DIR [--board BOARD] [--root ROOT]`: checks the description
 * as `ward system check` does, then writes DIR/system.system and DIR/vms.mk
 * with the generator (sel4_gen.c). Exit status: 0 when both files were
 * written, 2 for an invalid description, one that seL4 cannot honour, or a
 * bad argument, 1 when the files could not be written.
 */
#include "ward/cli/cli_system.h"
#include "ward/desc/sel4_gen.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Writes text to dir/name through a temporary file and a rename, so a make
 * that watches the file never sees half of it. */
static int write_file(const char *dir, const char *name, const char *text, FILE *out, FILE *err)
{
        char path[PATH_MAX], tmp[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
            snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp)) {
                fprintf(err, "ward system sel4: %s/%s: path too long\n", dir, name);
                return -1;
        }
        FILE *f = fopen(tmp, "w");
        if (!f) {
                fprintf(err, "ward system sel4: %s: %s\n", tmp, strerror(errno));
                return -1;
        }
        bool ok = fputs(text, f) >= 0;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) {
                fprintf(err, "ward system sel4: %s: %s\n", ok ? path : tmp, strerror(errno));
                remove(tmp);
                return -1;
        }
        fprintf(out, "wrote %s\n", path);
        return 0;
}

/* The options and the file (argv[optind]): -1 when they are good, else
 * the exit status. */
static int parse_args(int argc, char *const argv[], const char **dir, const char **board,
                      const char **root, FILE *out, FILE *err)
{
        enum { O_OUT = 256, O_BOARD, O_ROOT };
        static const struct option opts[] = {
            {"out", required_argument, NULL, O_OUT},
            {"board", required_argument, NULL, O_BOARD},
            {"root", required_argument, NULL, O_ROOT},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (c) {
                case O_OUT:
                        *dir = optarg;
                        break;
                case O_BOARD:
                        *board = optarg;
                        break;
                case O_ROOT:
                        *root = optarg;
                        break;
                case 'h':
                        fputs(ward_system_usage, out);
                        return 0;
                case ':':
                        fprintf(err, "ward system sel4: %s: needs a value\n", argv[optind - 1]);
                        return 2;
                default:
                        fprintf(err,
                                "ward system sel4: %s: unknown option (see ward system --help)\n",
                                argv[optind - 1]);
                        return 2;
                }
        }
        if (argc - optind != 1) {
                fprintf(err, "ward system sel4: %s (see ward system --help)\n",
                        optind == argc ? "which file? (ward system sel4 FILE --out DIR)"
                                       : "one file at a time");
                return 2;
        }
        if (!*dir || !**dir) {
                fprintf(err, "ward system sel4: where to? (--out DIR)\n");
                return 2;
        }
        if (!ward_sel4_board_known(*board)) {
                fprintf(err, "ward system sel4: --board %s: unknown board (known: %s)\n", *board,
                        WARD_SEL4_DEFAULT_BOARD);
                return 2;
        }
        return -1;
}

int ward_cli_system_sel4(int argc, char *const argv[], FILE *out, FILE *err)
{
        const char *dir = NULL, *board = WARD_SEL4_DEFAULT_BOARD, *root_arg = NULL;
        int usage = parse_args(argc, argv, &dir, &board, &root_arg, out, err);
        if (usage >= 0)
                return usage;
        const char *file = argv[optind];
        /* The root goes into vms.mk as the prefix of every absolute path:
         * make it absolute, and a directory, before anything else. */
        char root[PATH_MAX];
        struct stat st;
        if (root_arg) {
                const char *why = !realpath(root_arg, root) || stat(root, &st) != 0
                                      ? strerror(errno)
                                      : (S_ISDIR(st.st_mode) ? NULL : "not a directory");
                if (why) {
                        fprintf(err, "ward system sel4: --root %s: %s\n", root_arg, why);
                        return 2;
                }
        }

        /* The build machine's RAM and CPUs say nothing about the board, so
         * the checker gets none: no memory total, CPU numbers up to 1023.
         * The Microkit tool reports a system that does not fit the board. */
        const struct ward_sys_facts facts = {.target = WARD_SYS_TARGET_SEL4,
                                             .root = root_arg ? root : NULL};
        struct ward_sys_errors errs = {0}, warns = {0};
        struct ward_sys_desc *d = NULL;
        struct ward_sel4_out gen = {0};
        char ddir[PATH_MAX], wname[PATH_MAX + 32];
        int rc = 2;
        if (ward_sys_load(file, &facts, &d, &errs) || !d)
                goto print;
        if (ward_sys_desc_dir(file, ddir, sizeof(ddir))) {
                fprintf(err, "ward system sel4: %s: cannot resolve its directory\n", file);
                goto done;
        }
        const struct ward_sel4_opts o = {
            .board = board, .desc_dir = ddir, .root = root_arg ? root : NULL};
        if (ward_sel4_gen(d, &o, &gen, &errs, &warns))
                goto print;
        rc = 1;
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                fprintf(err, "ward system sel4: %s: %s\n", dir, strerror(errno));
                goto print;
        }
        if (write_file(dir, "system.system", gen.system, out, err) == 0 &&
            write_file(dir, "vms.mk", gen.make, out, err) == 0)
                rc = 0;
print:
        /* Warnings carry the command's name: they do not make the file
         * invalid, and must not be mistaken for checker errors. */
        snprintf(wname, sizeof(wname), "ward system sel4: %s", file);
        ward_sys_errors_print(&warns, wname, err);
        ward_sys_errors_print(&errs, file, err);
done:
        ward_sel4_out_free(&gen);
        ward_sys_errors_free(&errs);
        ward_sys_errors_free(&warns);
        ward_sys_free(d);
        return rc;
}
