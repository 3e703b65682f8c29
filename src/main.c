/*
 * main.c - options -> struct tb_config, exit status; nothing else.
 * Flags keep their tcpdump/tshark meanings.
 */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsblame/capture.h"
#include "tlsblame/classify.h"
#include "tlsblame/err.h"
#include "tlsblame/pipeline.h"
#include "tlsblame/rules.h"
#include "tlsblame/x509.h"


static void usage(FILE *out)
{
    fputs("usage: tlsblame [options] [-r] FILE|DIR ...   analyze captures (pcap, pcapng, .gz; - = stdin)\n"
          "       tlsblame [options] -i IFACE             analyze live traffic\n"
          "       tlsblame --check-rules DIR              validate rule files\n"
          "\n"
          "  -r FILE          read a capture (repeatable; bare arguments work too)\n"
          "  -i IFACE         capture live on IFACE\n"
          "  -f EXPR          BPF filter (a trailing expression works too)\n"
          "  -T text|json     output format (default text); --json = -T json\n"
          "  --ca-file FILE   PEM trust anchors to judge chains as the rejecting side would\n"
          "  --keylog FILE    SSLKEYLOGFILE to decrypt TLS 1.3 / 1.2 handshakes\n"
          "  --rules DIR      extra rule directory (repeatable); --no-default-rules\n"
          "  --only-failures  report only sessions that did not succeed\n"
          "  --summary        print the summary only\n"
          "  --export-certs DIR  write every certificate seen as PEM\n"
          "  --from FILE      read input paths from FILE, one per line\n"
          "  -j N             parallel jobs for batch input\n"
          "  -c N             stop after N packets\n"
          "  -w FILE          live: also write packets to FILE\n"
          "  -Z USER          live: drop privileges to USER after opening the interface\n"
          "  -p               live: no promiscuous mode\n"
          "  -s SNAPLEN       live: snap length\n"
          "  --color=auto|always|never\n"
          "  -q / -v          less / more detail (-vvv traces)\n"
          "  -h, --help       this help;  -V, --version  versions\n"
          "exit status: 0 done (whatever was found), 2 usage error or no input could be read\n",
          out);
}

static void version(void)
{
    printf("tlsblame %s\n  %s\n  nDPI %s\n  %s\n  libyaml %s\n", TB_VERSION,
           tb_capture_lib_version(), tb_classify_ndpi_version(), tb_x509_lib_version(),
           tb_rules_yaml_version());
}

enum {
    OPT_JSON = 256,
    OPT_KEYLOG,
    OPT_CA_FILE,
    OPT_RULES,
    OPT_NO_DEFAULT_RULES,
    OPT_CHECK_RULES,
    OPT_ONLY_FAILURES,
    OPT_SUMMARY,
    OPT_EXPORT_CERTS,
    OPT_FROM,
    OPT_COLOR,
    OPT_MAX_FLOWS,
    OPT_IDLE_TIMEOUT,
    OPT_LIST_RULE_TESTS,
};

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    v = strtoull(s, &end, 10);
    if (*end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* A BPF expression starts with a keyword ("tcp", "host", "not", "("): a word with a
 * slash or a capture suffix is a path that does not exist. */
static bool looks_like_capture_path(const char *arg)
{
    static const char *const suffixes[] = {".pcap", ".pcapng", ".cap", ".gz"};
    size_t n = strlen(arg);

    if (strchr(arg, '/') != NULL) {
        return true;
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t m = strlen(suffixes[i]);
        if (n > m && strcmp(arg + n - m, suffixes[i]) == 0) {
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"keylog", required_argument, NULL, OPT_KEYLOG},
        {"ca-file", required_argument, NULL, OPT_CA_FILE},
        {"rules", required_argument, NULL, OPT_RULES},
        {"no-default-rules", no_argument, NULL, OPT_NO_DEFAULT_RULES},
        {"check-rules", required_argument, NULL, OPT_CHECK_RULES},
        {"only-failures", no_argument, NULL, OPT_ONLY_FAILURES},
        {"summary", no_argument, NULL, OPT_SUMMARY},
        {"export-certs", required_argument, NULL, OPT_EXPORT_CERTS},
        {"from", required_argument, NULL, OPT_FROM},
        {"color", required_argument, NULL, OPT_COLOR},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"list-rule-tests", no_argument, NULL, OPT_LIST_RULE_TESTS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static struct tb_config cfg;
    unsigned long long n;
    int c;
    int verbose = 0;
    char *filter_joined = NULL;
    int status;
    bool list_rule_tests = false;

    tb_config_defaults(&cfg);
    while ((c = getopt_long(argc, argv, "+r:i:f:T:j:c:w:Z:ps:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (cfg.input_count >= TB_MAX_INPUTS) {
                fprintf(stderr, "tlsblame: too many inputs (max %d)\n", TB_MAX_INPUTS);
                return 2;
            }
            cfg.inputs[cfg.input_count++] = optarg;
            break;
        case 'i':
            cfg.iface = optarg;
            break;
        case 'f':
            cfg.filter = optarg;
            break;
        case 'T':
            if (strcmp(optarg, "json") == 0) {
                cfg.json = true;
            } else if (strcmp(optarg, "text") == 0) {
                cfg.json = false;
            } else {
                fprintf(stderr, "tlsblame: -T takes text or json, not '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_JSON:
            cfg.json = true;
            break;
        case 'j':
            if (!parse_uint(optarg, 256, &n) || n == 0) {
                fprintf(stderr, "tlsblame: -j takes a number from 1 to 256, not '%s'\n", optarg);
                return 2;
            }
            cfg.jobs = (int)n;
            break;
        case 'c':
            if (!parse_uint(optarg, ULLONG_MAX, &n)) {
                fprintf(stderr, "tlsblame: -c takes a packet count, not '%s'\n", optarg);
                return 2;
            }
            cfg.count = n;
            break;
        case 'w':
            cfg.write_path = optarg;
            break;
        case 'Z':
            cfg.user = optarg;
            break;
        case 'p':
            cfg.no_promisc = true;
            break;
        case 's':
            if (!parse_uint(optarg, 262144, &n)) {
                fprintf(stderr, "tlsblame: -s takes a snap length up to 262144, not '%s'\n",
                        optarg);
                return 2;
            }
            cfg.snaplen = (int)n;
            break;
        case 'q':
            cfg.verbosity = -1;
            break;
        case 'v':
            verbose++;
            break;
        case OPT_KEYLOG:
            if (cfg.keylog_count >= 8) {
                fprintf(stderr, "tlsblame: at most 8 --keylog files\n");
                return 2;
            }
            cfg.keylogs[cfg.keylog_count++] = optarg;
            break;
        case OPT_CA_FILE:
            cfg.ca_file = optarg;
            break;
        case OPT_RULES:
            if (cfg.rule_dir_count >= TB_MAX_RULE_DIRS) {
                fprintf(stderr, "tlsblame: at most %d --rules directories\n", TB_MAX_RULE_DIRS);
                return 2;
            }
            cfg.rule_dirs[cfg.rule_dir_count++] = optarg;
            break;
        case OPT_NO_DEFAULT_RULES:
            cfg.no_default_rules = true;
            break;
        case OPT_CHECK_RULES:
            return tb_pipeline_check_rules(optarg);
        case OPT_ONLY_FAILURES:
            cfg.only_failures = true;
            break;
        case OPT_SUMMARY:
            cfg.summary_only = true;
            break;
        case OPT_EXPORT_CERTS:
            cfg.export_certs = optarg;
            break;
        case OPT_FROM:
            cfg.from_file = optarg;
            break;
        case OPT_COLOR:
            if (strcmp(optarg, "auto") == 0) {
                cfg.color = TB_COLOR_AUTO;
            } else if (strcmp(optarg, "always") == 0) {
                cfg.color = TB_COLOR_ALWAYS;
            } else if (strcmp(optarg, "never") == 0) {
                cfg.color = TB_COLOR_NEVER;
            } else {
                fprintf(stderr, "tlsblame: --color takes auto, always or never\n");
                return 2;
            }
            break;
        case OPT_MAX_FLOWS:
            if (!parse_uint(optarg, 1u << 24, &n) || n == 0) {
                fprintf(stderr, "tlsblame: --max-flows takes a number from 1 to 16777216\n");
                return 2;
            }
            cfg.max_flows = (size_t)n;
            break;
        case OPT_IDLE_TIMEOUT:
            if (!parse_uint(optarg, 86400, &n) || n == 0) {
                fprintf(stderr, "tlsblame: --idle-timeout takes seconds from 1 to 86400\n");
                return 2;
            }
            cfg.idle_timeout_s = (int)n;
            break;
        case OPT_LIST_RULE_TESTS:
            list_rule_tests = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            version();
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        /* "+" stops at the first operand; keep taking options after operands too. */
        while (optind < argc && argv[optind][0] != '-' && cfg.iface == NULL &&
               cfg.filter == NULL) {
            const char *arg = argv[optind];
            FILE *probe = fopen(arg, "rb");
            if (probe == NULL && cfg.input_count > 0) {
                break; /* the start of a filter expression */
            }
            if (probe != NULL) {
                fclose(probe);
            }
            if (cfg.input_count >= TB_MAX_INPUTS) {
                break;
            }
            cfg.inputs[cfg.input_count++] = argv[optind++];
        }
    }
    if (list_rule_tests) {
        return tb_pipeline_list_rule_tests(&cfg);
    }
    if (verbose > 0 && cfg.verbosity >= 0) {
        cfg.verbosity = verbose;
    }
    tb_set_verbosity(cfg.verbosity);
    /* Operands: files and directories, then (tcpdump style) a filter expression. */
    for (; optind < argc; optind++) {
        const char *arg = argv[optind];
        FILE *probe = strcmp(arg, "-") == 0 ? NULL : fopen(arg, "rb");
        bool is_input = strcmp(arg, "-") == 0 || probe != NULL;
        if (probe != NULL) {
            fclose(probe);
        }
        /* Before any filter word, an operand that is not a readable file is still an
         * input when nothing else could be one (no input yet) or it is named like a
         * capture: the capture stage then says "cannot open", not "bad filter". */
        bool meant_as_input = is_input || (cfg.input_count == 0 && cfg.from_file == NULL) ||
                              looks_like_capture_path(arg);
        if (meant_as_input && filter_joined == NULL && cfg.iface == NULL) {
            if (cfg.input_count >= TB_MAX_INPUTS) {
                fprintf(stderr, "tlsblame: too many inputs (max %d)\n", TB_MAX_INPUTS);
                return 2;
            }
            cfg.inputs[cfg.input_count++] = arg;
            continue;
        }
        size_t old = filter_joined != NULL ? strlen(filter_joined) : 0;
        char *nf = realloc(filter_joined, old + strlen(arg) + 2);
        if (nf == NULL) {
            free(filter_joined);
            return 2;
        }
        filter_joined = nf;
        if (old > 0) {
            filter_joined[old++] = ' ';
        }
        memcpy(filter_joined + old, arg, strlen(arg) + 1); /* sized above */
    }
    if (filter_joined != NULL) {
        if (cfg.filter != NULL) {
            fprintf(stderr, "tlsblame: a filter was given twice (-f and a trailing expression)\n");
            free(filter_joined);
            return 2;
        }
        cfg.filter = filter_joined;
    }
    if (cfg.input_count == 0 && cfg.iface == NULL && cfg.from_file == NULL) {
        usage(stderr);
        free(filter_joined);
        return 2;
    }
    if (cfg.iface != NULL && cfg.input_count > 0) {
        fprintf(stderr, "tlsblame: -i and capture files cannot be combined\n");
        free(filter_joined);
        return 2;
    }
    status = tb_pipeline_run(&cfg);
    free(filter_joined);
    return status;
}
