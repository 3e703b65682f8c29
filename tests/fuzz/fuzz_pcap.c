/*
 * fuzz_pcap.c - the whole path from a capture file to a report, through the
 * real coordinator (tb_pipeline_analyze_file): libpcap (pcap and pcapng),
 * decode, flow table and reassembly, TLS, certificates, facts, rules and a
 * report. The input is written to a memfd and opened by name
 * (/proc/self/fd/N), as a file given on the command line would be. nDPI is
 * skipped (third-party code with its own fuzzers, ~25 ms to set up per
 * input); the flow table is small so that eviction runs too. The first
 * input byte picks JSON or text output.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tlsblame/pipeline.h"
#include "tlsblame/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_FLOWS 16

/* Loaded once and kept (reachable, so not a leak): loading rules is not under test here. */
static struct tb_ruleset *rules;
static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tb_config cfg;
    char path[64];
    int fd;

    if (sink == NULL) {
        sink = fopen("/dev/null", "w");
        rules = tb_ruleset_new();
        if (sink == NULL || rules == NULL ||
            tb_rules_load_dir(rules, tb_default_rule_dir()) != TB_OK) {
            return 0;
        }
    }
    fd = memfd_create("fuzz_pcap", 0);
    if (fd < 0) {
        return 0;
    }
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    (void)lseek(fd, 0, SEEK_SET); /* libpcap reads from the start through the path */
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    tb_config_defaults(&cfg);
    cfg.max_flows = FUZZ_MAX_FLOWS;
    cfg.no_ndpi = true;
    cfg.json = size > 0 && (data[size - 1] & 1) != 0;
    cfg.verbosity = -1;
    (void)tb_pipeline_analyze_file(&cfg, rules, path, sink); /* damaged input: reported */
    close(fd);
    return 0;
}
