/*
 * fuzz_x509.c - certificate parsing and chain analysis on hostile DER. The
 * input is one certificate, and also, read as concatenated DER elements
 * (cert || cert || ...), a chain of up to TB_MAX_CERTS; both go through the
 * cache, chain analysis (client and server role, with a CertificateRequest
 * naming the first cert's issuer) and the string helpers.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tlsblame/arena.h"
#include "tlsblame/chain.h"
#include "tlsblame/cv.h"
#include "tlsblame/limits.h"
#include "tlsblame/reader.h"
#include "tlsblame/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the next DER element (tag + length + contents), 0 if there is none. */
static size_t next_element(struct tb_reader *r)
{
    struct tb_reader probe = *r;
    size_t len = 0;

    probe.parent = NULL;
    (void)tb_rd_u8(&probe); /* tag */
    uint8_t first = tb_rd_u8(&probe);
    if (first < 0x80) {
        len = first;
    } else if ((first & 0x7fu) >= 1 && (first & 0x7fu) <= 3) {
        for (unsigned i = 0; i < (first & 0x7fu); i++) {
            len = len << 8 | tb_rd_u8(&probe);
        }
    } else {
        return 0;
    }
    if (!tb_rd_ok(&probe) || len > tb_rd_left(&probe)) {
        return 0;
    }
    return tb_rd_offset(&probe) - tb_rd_offset(r) + len;
}

static void analyze(const struct tb_cert *const *certs, size_t count)
{
    static const uint8_t types[] = {1, 64};
    static const uint16_t algs[] = {0x0401, 0x0403, 0x0804, 0x0807};
    const uint8_t *names[1] = {certs[0]->issuer_raw};
    size_t lens[1] = {certs[0]->issuer_raw_len};
    struct tb_chain_input in = {
        .certs = certs,
        .count = count,
        .sender = TB_DIR_S2C,
        .at = certs[0]->not_before + 1,
        .sni = "server.example.com",
        .have_cert_request = true,
        .ca_names_der = names,
        .ca_names_len = lens,
        .ca_names_count = names[0] != NULL ? 1 : 0,
        .cert_types = types,
        .cert_types_count = sizeof types,
        .sig_algs = algs,
        .sig_algs_count = sizeof algs / sizeof algs[0],
    };
    struct tb_chain_report out;

    tb_chain_analyze(&in, &out);
    in.sender = TB_DIR_C2S;
    in.at = certs[0]->not_after + 1;
    tb_chain_analyze(&in, &out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tb_certcache *cache = tb_certcache_new(TB_MAX_CERTS);
    const struct tb_cert *certs[TB_MAX_CERTS];
    size_t count = 0;
    struct tb_arena arena;
    char why[128];

    if (cache == NULL) {
        return 0;
    }
    tb_arena_init(&arena, 1u << 20);
    const struct tb_cert *whole = tb_certcache_get(cache, data, size);
    if (whole != NULL) {
        analyze(&whole, 1);
        (void)tb_cert_matches_host(whole, "a.example.com");
        (void)tb_cert_matches_host(whole, "10.0.0.1");
        (void)tb_cert_pem(whole, &arena);
        (void)tb_x509_dn_string(data, size, &arena);
        (void)tb_x509_dn_cn(data, size, &arena);
        (void)tb_cv_verify_tls12(whole, 0x0303, 0x0401, data, size, data, size, why, sizeof why);
        (void)tb_cv_verify_tls12(whole, 0x0301, 0, data, size, data, size, why, sizeof why);
        (void)tb_cv_verify_tls12(whole, 0x0303, 0x0403, data, size, data, size, why, sizeof why);
        tb_cert_release(cache, whole);
    }

    struct tb_reader r = tb_rd_init(data, size);
    while (count < TB_MAX_CERTS && tb_rd_left(&r) > 0) {
        size_t n = next_element(&r);
        if (n == 0) {
            break;
        }
        const uint8_t *p = tb_rd_bytes(&r, n);
        const struct tb_cert *c = tb_certcache_get(cache, p, n);
        if (c == NULL) {
            break;
        }
        certs[count++] = c;
    }
    if (count > 0) {
        analyze(certs, count);
    }
    for (size_t i = 0; i < count; i++) {
        tb_cert_release(cache, certs[i]);
    }
    tb_arena_reset(&arena);
    tb_certcache_free(cache);
    return 0;
}
