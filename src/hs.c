/*
 * hs.c - handshake message parsers (RFC 5246 7.4, RFC 8446 4), one function
 * per message, each reading like the RFC through tb_reader and checking for
 * errors once. They write what a diagnosis needs into the session; a parse
 * error becomes a fact for that direction and the capture goes on.
 */
#include <string.h>

#include "tls_int.h"
#include "tlsblame/memo.h"
#include "tlsblame/names.h"
#include "tlsblame/reader.h"

/* RFC 8446 4.1.3: SHA-256("HelloRetryRequest") as the ServerHello.random. */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

#define EXT_SERVER_NAME 0
#define EXT_STATUS_REQUEST 5
#define EXT_SUPPORTED_GROUPS 10
#define EXT_EC_POINT_FORMATS 11
#define EXT_SIGNATURE_ALGORITHMS 13
#define EXT_ALPN 16
#define EXT_EXTENDED_MASTER_SECRET 23
#define EXT_SESSION_TICKET 35
#define EXT_PRE_SHARED_KEY 41
#define EXT_EARLY_DATA 42
#define EXT_SUPPORTED_VERSIONS 43
#define EXT_PSK_KEY_EXCHANGE_MODES 45
#define EXT_CERTIFICATE_AUTHORITIES 47
#define EXT_OID_FILTERS 48
#define EXT_POST_HANDSHAKE_AUTH 49
#define EXT_SIGNATURE_ALGORITHMS_CERT 50
#define EXT_KEY_SHARE 51
#define EXT_ENCRYPTED_CLIENT_HELLO 0xfe0d
#define EXT_RENEGOTIATION_INFO 0xff01

void tb_tls_parse_error(struct tb_tls *t, enum tb_dir dir, uint64_t frame, const char *what,
                        enum tb_err err, size_t at)
{
    struct tb_session *s = t->s;
    struct tb_dir_stats *ds = &s->dir[dir];

    s->anomalies |= dir == TB_DIR_C2S ? TB_ANOM_PARSE_C2S : TB_ANOM_PARSE_S2C;
    if (ds->parse_error == NULL) {
        ds->parse_error = tb_arena_printf(&s->arena, "%s: byte %zu: %s", what, at,
                                          tb_strerror(err));
        ds->parse_error_frame = frame;
    }
    tb_trace("session %llu frame %llu %s: %s: byte %zu: %s", (unsigned long long)s->id,
             (unsigned long long)frame, tb_dir_side(dir), what, at, tb_strerror(err));
}

static void list_add(struct tb_u16_list *l, uint16_t v)
{
    l->total++;
    if (l->count < TB_MAX_LIST) {
        l->v[l->count++] = v;
    }
}

static void read_u16_list(struct tb_reader *r, struct tb_u16_list *l, unsigned width, size_t min)
{
    struct tb_reader v = tb_rd_vec(r, width, min, width == 1 ? 0xff : 0xffff);
    while (tb_rd_left(&v) > 0) {
        list_add(l, tb_rd_u16(&v));
    }
}

static bool u16_list_has(const struct tb_u16_list *l, uint16_t v)
{
    for (size_t i = 0; i < l->count; i++) {
        if (l->v[i] == v) {
            return true;
        }
    }
    return false;
}

static const char *arena_wire_string(struct tb_arena *a, const uint8_t *p, size_t n)
{
    return tb_arena_strndup(a, (const char *)p, n);
}

static struct tb_event *hs_event(struct tb_tls *t, enum tb_dir dir, uint8_t type, size_t len,
                                 uint64_t frame, int64_t ts_us, bool decrypted)
{
    struct tb_event *e = tb_session_add_event(t->s, TB_EV_HANDSHAKE, dir, frame, ts_us);
    if (e != NULL) {
        e->hs_type = type;
        e->length = (uint32_t)len;
        e->decrypted = decrypted;
    }
    return e;
}

/* RFC 8446 4.1.2 / RFC 5246 7.4.1.2 ClientHello */
static enum tb_err parse_client_hello(struct tb_tls *t, struct tb_reader *msg)
{
    struct tb_session *s = t->s;
    struct tb_client_hello *ch = &s->ch;
    struct tb_client_hello fresh;

    /* A second ClientHello (after HelloRetryRequest) replaces the first's lists. */
    memset(&fresh, 0, sizeof fresh);
    fresh.frame = ch->frame;
    *ch = fresh;
    ch->seen = true;
    ch->legacy_version = tb_rd_u16(msg);
    tb_rd_copy(msg, ch->random, 32);
    struct tb_reader sid = tb_rd_vec(msg, 1, 0, 32);
    ch->session_id_len = (uint8_t)tb_rd_left(&sid);
    tb_rd_copy(&sid, ch->session_id, ch->session_id_len);
    read_u16_list(msg, &ch->cipher_suites, 2, 2);
    struct tb_reader comp = tb_rd_vec(msg, 1, 1, 0xff);
    tb_rd_skip(&comp, tb_rd_left(&comp));
    if (tb_rd_left(msg) == 0) {
        return tb_rd_done(msg); /* no extensions (SSL 3.0 style) */
    }
    struct tb_reader exts = tb_rd_vec(msg, 2, 0, 0xffff);
    while (tb_rd_left(&exts) > 0) {
        uint16_t type = tb_rd_u16(&exts);
        struct tb_reader ext = tb_rd_vec(&exts, 2, 0, 0xffff);
        list_add(&ch->extensions, type);
        switch (type) {
        case EXT_SERVER_NAME: {
            struct tb_reader list = tb_rd_vec(&ext, 2, 0, 0xffff);
            while (tb_rd_left(&list) > 0) {
                uint8_t name_type = tb_rd_u8(&list);
                struct tb_reader name = tb_rd_vec(&list, 2, 1, 0xffff);
                size_t n = tb_rd_left(&name);
                const uint8_t *p = tb_rd_bytes(&name, n);
                if (name_type == 0 && ch->sni == NULL && p != NULL) {
                    size_t keep = n > TB_MAX_SNI_LEN ? TB_MAX_SNI_LEN : n;
                    ch->sni = arena_wire_string(&s->arena, p, keep);
                    ch->sni_len = keep;
                }
            }
            break;
        }
        case EXT_ALPN: {
            struct tb_reader list = tb_rd_vec(&ext, 2, 2, 0xffff);
            while (tb_rd_left(&list) > 0) {
                struct tb_reader proto = tb_rd_vec(&list, 1, 1, 0xff);
                size_t n = tb_rd_left(&proto);
                const uint8_t *p = tb_rd_bytes(&proto, n);
                if (p != NULL && ch->alpn_count < TB_MAX_ALPN) {
                    ch->alpn[ch->alpn_count++] = arena_wire_string(&s->arena, p, n);
                }
            }
            break;
        }
        case EXT_SUPPORTED_VERSIONS:
            read_u16_list(&ext, &ch->versions, 1, 2);
            break;
        case EXT_SIGNATURE_ALGORITHMS:
            read_u16_list(&ext, &ch->sig_algs, 2, 2);
            break;
        case EXT_SIGNATURE_ALGORITHMS_CERT:
            read_u16_list(&ext, &ch->sig_algs_cert, 2, 2);
            break;
        case EXT_SUPPORTED_GROUPS:
            read_u16_list(&ext, &ch->groups, 2, 2);
            break;
        case EXT_EC_POINT_FORMATS: {
            struct tb_reader f = tb_rd_vec(&ext, 1, 1, 0xff);
            while (tb_rd_left(&f) > 0) {
                list_add(&ch->ec_point_formats, tb_rd_u8(&f));
            }
            break;
        }
        case EXT_KEY_SHARE: {
            struct tb_reader shares = tb_rd_vec(&ext, 2, 0, 0xffff);
            while (tb_rd_left(&shares) > 0) {
                list_add(&ch->key_share_groups, tb_rd_u16(&shares));
                struct tb_reader key = tb_rd_vec(&shares, 2, 1, 0xffff);
                tb_rd_skip(&key, tb_rd_left(&key));
            }
            break;
        }
        case EXT_CERTIFICATE_AUTHORITIES: {
            struct tb_reader cas = tb_rd_vec(&ext, 2, 3, 0xffff);
            while (tb_rd_left(&cas) > 0) {
                struct tb_reader dn = tb_rd_vec(&cas, 2, 1, 0xffff);
                tb_rd_skip(&dn, tb_rd_left(&dn));
                ch->ca_names_count++;
            }
            break;
        }
        case EXT_PRE_SHARED_KEY:
            ch->has_psk = true;
            tb_rd_skip(&ext, tb_rd_left(&ext));
            break;
        case EXT_EARLY_DATA:
            ch->has_early_data = true;
            break;
        case EXT_ENCRYPTED_CLIENT_HELLO:
            ch->has_ech = true;
            tb_rd_skip(&ext, tb_rd_left(&ext));
            break;
        case EXT_POST_HANDSHAKE_AUTH:
            ch->has_post_handshake_auth = true;
            break;
        case EXT_STATUS_REQUEST:
            ch->has_status_request = true;
            tb_rd_skip(&ext, tb_rd_left(&ext));
            break;
        case EXT_EXTENDED_MASTER_SECRET:
            ch->has_extended_master_secret = true;
            break;
        case EXT_RENEGOTIATION_INFO:
            ch->has_renegotiation_info = true;
            tb_rd_skip(&ext, tb_rd_left(&ext));
            break;
        case EXT_SESSION_TICKET:
            ch->has_session_ticket = true;
            tb_rd_skip(&ext, tb_rd_left(&ext));
            break;
        default:
            tb_rd_skip(&ext, tb_rd_left(&ext)); /* not needed for a diagnosis */
            break;
        }
        if (!tb_rd_ok(&ext)) {
            return ext.err;
        }
        if (tb_rd_left(&ext) != 0) {
            return TB_ERR_TRAILING;
        }
    }
    return tb_rd_done(msg);
}

static bool is_tls13_version(uint16_t v)
{
    /* 0x0304, drafts 0x7fxx, Google 0x7e01.., Facebook 0xfb1a */
    return v == 0x0304 || (v >> 8) == 0x7f || (v >> 8) == 0x7e || v == 0xfb1a;
}

/* RFC 8446 4.1.3 / RFC 5246 7.4.1.3 ServerHello (and HelloRetryRequest) */
static enum tb_err parse_server_hello(struct tb_tls *t, struct tb_reader *msg, bool *is_hrr)
{
    struct tb_session *s = t->s;
    struct tb_server_hello *sh = &s->sh;
    uint8_t random[32];
    uint16_t legacy_version = tb_rd_u16(msg);
    uint16_t selected_version = 0;
    const char *alpn = NULL;
    struct tb_u16_list exts_seen = {.count = 0};
    bool has_psk = false, has_ems = false;
    uint16_t hrr_group = 0;

    tb_rd_copy(msg, random, 32);
    *is_hrr = memcmp(random, hrr_random, 32) == 0;
    /* Drafts <= 22 had no legacy_session_id. */
    bool old_draft = (legacy_version >> 8) == 0x7f && (legacy_version & 0xff) < 22;
    uint8_t sid[32] = {0};
    size_t sid_len = 0;
    if (!old_draft) {
        struct tb_reader v = tb_rd_vec(msg, 1, 0, 32);
        sid_len = tb_rd_left(&v);
        tb_rd_copy(&v, sid, sid_len);
    }
    uint16_t cipher = tb_rd_u16(msg);
    uint8_t compression = old_draft ? 0 : tb_rd_u8(msg);
    if (tb_rd_left(msg) > 0) {
        struct tb_reader exts = tb_rd_vec(msg, 2, 0, 0xffff);
        while (tb_rd_left(&exts) > 0) {
            uint16_t type = tb_rd_u16(&exts);
            struct tb_reader ext = tb_rd_vec(&exts, 2, 0, 0xffff);
            list_add(&exts_seen, type);
            switch (type) {
            case EXT_SUPPORTED_VERSIONS:
                selected_version = tb_rd_u16(&ext);
                break;
            case EXT_ALPN: {
                struct tb_reader list = tb_rd_vec(&ext, 2, 2, 0xffff);
                struct tb_reader proto = tb_rd_vec(&list, 1, 1, 0xff);
                size_t n = tb_rd_left(&proto);
                const uint8_t *p = tb_rd_bytes(&proto, n);
                if (p != NULL) {
                    alpn = arena_wire_string(&s->arena, p, n);
                }
                break;
            }
            case EXT_PRE_SHARED_KEY:
                has_psk = true;
                tb_rd_skip(&ext, tb_rd_left(&ext));
                break;
            case EXT_KEY_SHARE:
                if (*is_hrr) {
                    hrr_group = tb_rd_u16(&ext);
                }
                tb_rd_skip(&ext, tb_rd_left(&ext));
                break;
            case EXT_EXTENDED_MASTER_SECRET:
                has_ems = true;
                break;
            default:
                tb_rd_skip(&ext, tb_rd_left(&ext));
                break;
            }
            if (!tb_rd_ok(&ext)) {
                return ext.err;
            }
        }
    }
    enum tb_err err = tb_rd_done(msg);
    if (err != TB_OK) {
        return err;
    }
    if (*is_hrr) {
        sh->hrr_seen = true;
        sh->hrr_group = hrr_group;
        return TB_OK;
    }
    sh->seen = true;
    sh->legacy_version = legacy_version;
    memcpy(sh->random, random, 32);
    memcpy(sh->session_id, sid, sid_len);
    sh->session_id_len = (uint8_t)sid_len;
    sh->cipher = cipher;
    sh->compression = compression;
    sh->alpn = alpn;
    sh->extensions = exts_seen;
    sh->has_extended_master_secret = has_ems;
    sh->version = selected_version != 0 ? selected_version : legacy_version;
    s->version = sh->version;
    s->tls13 = is_tls13_version(sh->version);
    if (s->tls13) {
        s->resumed = has_psk;
    } else if (sid_len > 0 && s->ch.session_id_len == sid_len &&
               memcmp(s->ch.session_id, sid, sid_len) == 0) {
        s->resumed = true; /* RFC 5246 7.4.1.3: the server echoes a session it resumes */
    }
    return TB_OK;
}

/* RFC 5246 7.4.2 / RFC 8446 4.4.2 Certificate */
static enum tb_err parse_certificate(struct tb_tls *t, enum tb_dir dir, struct tb_reader *msg,
                                     uint64_t frame, int64_t ts_us, uint16_t *count_out)
{
    struct tb_session *s = t->s;
    struct tb_chain *chain = &s->chain[dir];

    /* A renegotiation or post-handshake Certificate replaces the earlier chain's references. */
    for (size_t i = 0; i < chain->count; i++) {
        tb_cert_release(t->cache, chain->certs[i]);
    }
    memset(chain, 0, sizeof *chain);
    chain->seen = true;
    chain->frame = frame;
    chain->ts_us = ts_us;
    chain->msg_len = (uint32_t)tb_rd_left(msg);
    if (s->tls13) {
        struct tb_reader ctx = tb_rd_vec(msg, 1, 0, 0xff);
        tb_rd_skip(&ctx, tb_rd_left(&ctx));
    }
    struct tb_reader list = tb_rd_vec(msg, 3, 0, 0xffffff);
    while (tb_rd_left(&list) > 0) {
        struct tb_reader der = tb_rd_vec(&list, 3, 1, 0xffffff);
        size_t n = tb_rd_left(&der);
        const uint8_t *p = tb_rd_bytes(&der, n);
        if (s->tls13) {
            struct tb_reader exts = tb_rd_vec(&list, 2, 0, 0xffff);
            tb_rd_skip(&exts, tb_rd_left(&exts));
        }
        if (p == NULL || !tb_rd_ok(&list)) {
            break;
        }
        chain->total++;
        if (chain->count < TB_MAX_CERTS) {
            const struct tb_cert *c = tb_certcache_get(t->cache, p, n);
            if (c != NULL) {
                chain->certs[chain->count++] = c;
            }
        }
    }
    *count_out = (uint16_t)(chain->total > 0xffff ? 0xffff : chain->total);
    if (dir == TB_DIR_C2S) {
        s->client_sent_certificate = tb_tri_from_bool(chain->total > 0);
    }
    return tb_rd_done(msg);
}

/* A CA name as text; a server sends the same list in every handshake (memo.h). */
static const struct tb_memo_shape dn_memo = {TB_MEMO_DN, 64, 256, 512};

static char *ca_name_text(const uint8_t *der, size_t n, struct tb_arena *a)
{
    size_t kept_len = 0;
    const char *kept = tb_memo_get(&dn_memo, der, n, &kept_len);

    if (kept != NULL) {
        return tb_arena_strndup(a, kept, kept_len);
    }
    char *text = tb_x509_dn_string(der, n, a);
    if (text != NULL) {
        tb_memo_put(&dn_memo, der, n, text, strlen(text));
    }
    return text;
}

static void cr_add_ca(struct tb_tls *t, struct tb_reader *dn)
{
    struct tb_cert_request *cr = &t->s->cr;
    size_t n = tb_rd_left(dn);
    const uint8_t *p = tb_rd_bytes(dn, n);

    cr->ca_total++;
    if (p == NULL || cr->ca_count >= TB_MAX_CA_NAMES) {
        return; /* counted past the cap: ca_total > ca_count tells */
    }
    if (cr->ca_der == NULL) {
        cr->ca_der = tb_arena_alloc(&t->s->arena, TB_MAX_CA_NAMES * sizeof *cr->ca_der);
        cr->ca_len = tb_arena_alloc(&t->s->arena, TB_MAX_CA_NAMES * sizeof *cr->ca_len);
        cr->ca_names = tb_arena_alloc(&t->s->arena, TB_MAX_CA_NAMES * sizeof *cr->ca_names);
        if (cr->ca_der == NULL || cr->ca_len == NULL || cr->ca_names == NULL) {
            cr->ca_der = NULL; /* the arena is full: counted, not kept */
            t->s->anomalies |= TB_ANOM_ARENA_CAP;
            return;
        }
    }
    uint8_t *copy = tb_arena_memdup(&t->s->arena, p, n);
    if (copy == NULL) {
        return;
    }
    cr->ca_der[cr->ca_count] = copy;
    cr->ca_len[cr->ca_count] = n;
    cr->ca_names[cr->ca_count] = ca_name_text(copy, n, &t->s->arena);
    cr->ca_count++;
}

/* RFC 5246 7.4.4 / RFC 8446 4.3.2 CertificateRequest */
static enum tb_err parse_certificate_request(struct tb_tls *t, struct tb_reader *msg,
                                             uint64_t frame)
{
    struct tb_session *s = t->s;
    struct tb_cert_request *cr = &s->cr;

    memset(cr, 0, sizeof *cr);
    cr->seen = true;
    cr->frame = frame;
    cr->tls13 = s->tls13;
    if (s->tls13) {
        struct tb_reader ctx = tb_rd_vec(msg, 1, 0, 0xff);
        tb_rd_skip(&ctx, tb_rd_left(&ctx));
        struct tb_reader exts = tb_rd_vec(msg, 2, 2, 0xffff);
        while (tb_rd_left(&exts) > 0) {
            uint16_t type = tb_rd_u16(&exts);
            struct tb_reader ext = tb_rd_vec(&exts, 2, 0, 0xffff);
            switch (type) {
            case EXT_SIGNATURE_ALGORITHMS:
                read_u16_list(&ext, &cr->sig_algs, 2, 2);
                break;
            case EXT_SIGNATURE_ALGORITHMS_CERT:
                read_u16_list(&ext, &cr->sig_algs_cert, 2, 2);
                break;
            case EXT_CERTIFICATE_AUTHORITIES: {
                struct tb_reader cas = tb_rd_vec(&ext, 2, 3, 0xffff);
                while (tb_rd_left(&cas) > 0) {
                    struct tb_reader dn = tb_rd_vec(&cas, 2, 1, 0xffff);
                    cr_add_ca(t, &dn);
                }
                break;
            }
            case EXT_OID_FILTERS:
            default:
                tb_rd_skip(&ext, tb_rd_left(&ext));
                break;
            }
        }
        return tb_rd_done(msg);
    }
    struct tb_reader types = tb_rd_vec(msg, 1, 1, 0xff);
    while (tb_rd_left(&types) > 0) {
        uint8_t type = tb_rd_u8(&types);
        if (cr->cert_types_count < sizeof cr->cert_types) {
            cr->cert_types[cr->cert_types_count++] = type;
        }
    }
    if (s->version >= 0x0303) {
        read_u16_list(msg, &cr->sig_algs, 2, 2);
    }
    struct tb_reader cas = tb_rd_vec(msg, 2, 0, 0xffff);
    while (tb_rd_left(&cas) > 0) {
        struct tb_reader dn = tb_rd_vec(&cas, 2, 1, 0xffff);
        cr_add_ca(t, &dn);
    }
    return tb_rd_done(msg);
}

/* RFC 5246 7.4.8 / RFC 8446 4.4.3 CertificateVerify */
static enum tb_err parse_certificate_verify(struct tb_tls *t, enum tb_dir dir,
                                            struct tb_reader *msg, uint64_t frame)
{
    struct tb_session *s = t->s;
    struct tb_cert_verify *cv = dir == TB_DIR_C2S ? &s->cv : &s->scv;

    memset(cv, 0, sizeof *cv);
    cv->seen = true;
    cv->frame = frame;
    cv->dir = dir;
    if (s->tls13 || s->version >= 0x0303) {
        cv->sig_alg = tb_rd_u16(msg);
    }
    struct tb_reader sig = tb_rd_vec(msg, 2, 0, 0xffff);
    size_t n = tb_rd_left(&sig);
    const uint8_t *p = tb_rd_bytes(&sig, n);
    if (p != NULL) {
        cv->sig = tb_arena_memdup(&s->arena, p, n);
        cv->sig_len = n;
    }
    cv->transcript_len = t->transcript.len;
    if (dir == TB_DIR_C2S) {
        if (s->cr.seen && s->cr.sig_algs.count > 0 && cv->sig_alg != 0) {
            cv->offered = tb_tri_from_bool(u16_list_has(&s->cr.sig_algs, cv->sig_alg));
        }
    } else if (s->ch.sig_algs.count > 0 && cv->sig_alg != 0) {
        cv->offered = tb_tri_from_bool(u16_list_has(&s->ch.sig_algs, cv->sig_alg));
    }
    return tb_rd_done(msg);
}

/* RFC 5246 7.4.3 / RFC 8422 5.4 ServerKeyExchange: keep params and signature. */
static enum tb_err parse_server_key_exchange(struct tb_tls *t, struct tb_reader *msg)
{
    struct tb_session *s = t->s;
    size_t start = tb_rd_offset(msg);
    uint16_t cipher = s->sh.cipher;
    /* Key exchange family from the suite name: ECDHE_* or DHE_* carry a signature. */
    struct tb_name_buf nb;
    const char *name = tb_cipher_name(cipher, &nb);
    bool ecdhe = strstr(name, "ECDHE_") != NULL;
    bool dhe = !ecdhe && strstr(name, "DHE_") != NULL;
    bool anon = strstr(name, "_anon_") != NULL || strstr(name, "PSK") != NULL;

    if (!(ecdhe || dhe) || anon) {
        tb_rd_skip(msg, tb_rd_left(msg));
        return TB_OK; /* RSA export, PSK, anon: nothing we check */
    }
    if (ecdhe) {
        uint8_t curve_type = tb_rd_u8(msg);
        if (curve_type != 3) {
            tb_rd_skip(msg, tb_rd_left(msg));
            return TB_OK; /* explicit curves: not checked */
        }
        tb_rd_skip(msg, 2);
        struct tb_reader point = tb_rd_vec(msg, 1, 1, 0xff);
        tb_rd_skip(&point, tb_rd_left(&point));
    } else {
        for (int i = 0; i < 3; i++) {
            struct tb_reader v = tb_rd_vec(msg, 2, 1, 0xffff);
            tb_rd_skip(&v, tb_rd_left(&v));
        }
    }
    size_t params_end = tb_rd_offset(msg);
    if (s->version >= 0x0303) {
        s->ske_sig_alg = tb_rd_u16(msg);
    }
    struct tb_reader sig = tb_rd_vec(msg, 2, 0, 0xffff);
    size_t n = tb_rd_left(&sig);
    const uint8_t *sp = tb_rd_bytes(&sig, n);
    enum tb_err err = tb_rd_done(msg);
    if (err != TB_OK || sp == NULL) {
        return err;
    }
    struct tb_reader whole = tb_rd_init(msg->buf, msg->end);
    tb_rd_skip(&whole, start);
    const uint8_t *pp = tb_rd_bytes(&whole, params_end - start);
    t->ske_params = pp != NULL ? tb_arena_memdup(&s->arena, pp, params_end - start) : NULL;
    t->ske_params_len = params_end - start;
    t->ske_sig = tb_arena_memdup(&s->arena, sp, n);
    t->ske_sig_len = n;
    return TB_OK;
}

/* decrypt: begin */
/* RFC 8446 4.3.1 EncryptedExtensions (seen once decrypted): the selected ALPN lives here. */
static enum tb_err parse_encrypted_extensions(struct tb_tls *t, struct tb_reader *msg)
{
    struct tb_session *s = t->s;
    struct tb_reader exts = tb_rd_vec(msg, 2, 0, 0xffff);

    while (tb_rd_left(&exts) > 0) {
        uint16_t type = tb_rd_u16(&exts);
        struct tb_reader ext = tb_rd_vec(&exts, 2, 0, 0xffff);
        if (type == EXT_ALPN) {
            /* RFC 7301 3.1: the server's list holds exactly one protocol. */
            struct tb_reader list = tb_rd_vec(&ext, 2, 2, 0xffff);
            struct tb_reader proto = tb_rd_vec(&list, 1, 1, 0xff);
            size_t n = tb_rd_left(&proto);
            const uint8_t *p = tb_rd_bytes(&proto, n);
            if (p != NULL) {
                s->sh.alpn = arena_wire_string(&s->arena, p, n);
            }
        }
        tb_rd_skip(&ext, tb_rd_left(&ext)); /* others decide nothing here */
    }
    return tb_rd_done(msg);
}
/* decrypt: end */

/* Keep the TLS <= 1.2 transcript: every handshake message but HelloRequest. */
static void transcript_add(struct tb_tls *t, uint8_t type, const uint8_t *body, size_t len)
{
    uint8_t hdr[4] = {type, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};

    if (t->transcript_frozen || t->transcript_over_cap || type == TB_HS_HELLO_REQUEST) {
        return;
    }
    if (tb_buf_append(&t->transcript, hdr, 4) != TB_OK ||
        tb_buf_append(&t->transcript, body, len) != TB_OK) {
        t->transcript_over_cap = true;
        tb_buf_fini(&t->transcript);
    }
}

void tb_hs_message(struct tb_tls *t, enum tb_dir dir, uint8_t type, const uint8_t *body,
                   size_t len, uint64_t frame, int64_t ts_us, bool decrypted)
{
    struct tb_session *s = t->s;
    struct tb_reader msg = tb_rd_init(body, len);
    enum tb_err err = TB_OK;
    uint8_t event_type = type;
    uint16_t count = 0;
    bool is_hrr = false;
    struct tb_name_buf nb;

    tb_trace("session %llu frame %llu %s: %s, %zu bytes%s", (unsigned long long)s->id,
             (unsigned long long)frame, tb_dir_side(dir), tb_hs_type_name(type, &nb), len,
             decrypted ? " (decrypted)" : "");
    switch (type) {
    case TB_HS_CLIENT_HELLO:
        if (!s->ch.seen) {
            s->ch.frame = frame;
        }
        err = parse_client_hello(t, &msg);
        break;
    case TB_HS_SERVER_HELLO:
        err = parse_server_hello(t, &msg, &is_hrr);
        if (is_hrr) {
            event_type = TB_HS_HELLO_RETRY_REQUEST;
            /* RFC 8446 4.4.1: the transcript restarts; TLS 1.3 has no clear CV to check. */
        } else if (err == TB_OK) {
            s->sh.frame = frame;
        }
        break;
    case TB_HS_CERTIFICATE:
        err = parse_certificate(t, dir, &msg, frame, ts_us, &count);
        break;
    case TB_HS_CERTIFICATE_REQUEST:
        if (dir == TB_DIR_S2C) {
            err = parse_certificate_request(t, &msg, frame);
        }
        break;
    case TB_HS_CERTIFICATE_VERIFY:
        err = parse_certificate_verify(t, dir, &msg, frame);
        if (dir == TB_DIR_C2S && !s->tls13) {
            t->transcript_frozen = true; /* the signature covers what came before */
        }
        break;
    case TB_HS_SERVER_KEY_EXCHANGE:
        if (dir == TB_DIR_S2C) {
            err = parse_server_key_exchange(t, &msg);
        }
        break;
    case TB_HS_FINISHED:
        t->d[dir].saw_finished = true;
        s->dir[dir].saw_finished = true;
        break;
    /* decrypt: begin */
    case TB_HS_ENCRYPTED_EXTENSIONS:
        if (dir == TB_DIR_S2C) {
            err = parse_encrypted_extensions(t, &msg);
        }
        break;
    case TB_HS_KEY_UPDATE:
        /* RFC 8446 4.6.3: the sender's next records use its next traffic secret. */
        t->d[dir].dec_key_update = decrypted && s->tls13;
        break;
    /* decrypt: end */
    case TB_HS_HELLO_REQUEST:
    case TB_HS_NEW_SESSION_TICKET:
    case TB_HS_END_OF_EARLY_DATA:
    case TB_HS_SERVER_HELLO_DONE:
    case TB_HS_CLIENT_KEY_EXCHANGE:
    case TB_HS_CERTIFICATE_STATUS:
    case TB_HS_CERTIFICATE_URL:
    case TB_HS_HELLO_VERIFY_REQUEST:
        break; /* named on the timeline; their contents decide nothing here */
    default:
        tb_trace("session %llu: %s handshake type %s", (unsigned long long)s->id, tb_dir_side(dir),
                 tb_hs_type_name(type, &nb));
        break;
    }
    if (!decrypted && !s->tls13) {
        transcript_add(t, type, body, len);
    }
    /* decrypt: begin - TLS 1.3 transcript for CertificateVerify (RFC 8446 4.4.1): from the
     * ClientHello (added above, before the version was known) to the client's Finished. */
    else if (s->tls13 && !t->transcript13_done && type != TB_HS_NEW_SESSION_TICKET &&
             type != TB_HS_KEY_UPDATE) {
        transcript_add(t, type, body, len);
        t->transcript13_done = type == TB_HS_FINISHED && dir == TB_DIR_C2S;
    }
    /* decrypt: end */
    struct tb_event *e = hs_event(t, dir, event_type, len, frame, ts_us, decrypted);
    if (e != NULL) {
        e->count = count;
    }
    if (err != TB_OK) {
        tb_tls_parse_error(t, dir, frame, tb_hs_type_name(type, &nb), err, msg.err_at);
    }
}

void tb_tls_handshake_message(struct tb_tls *t, enum tb_dir dir, uint8_t type, const uint8_t *body,
                              size_t len, uint64_t frame, int64_t ts_us, bool decrypted)
{
    tb_hs_message(t, dir, type, body, len, frame, ts_us, decrypted);
}

/* SSL 2.0 compatible CLIENT-HELLO (RFC 5246 E.2), as sent by old stacks. */
void tb_tls_sslv2_client_hello(struct tb_tls *t, const uint8_t *msg, size_t len, uint64_t frame,
                               int64_t ts_us)
{
    struct tb_session *s = t->s;
    struct tb_reader r = tb_rd_init(msg, len);
    struct tb_client_hello *ch = &s->ch;

    tb_rd_skip(&r, 1); /* msg_type */
    ch->seen = true;
    ch->frame = frame;
    ch->sslv2_format = true;
    ch->legacy_version = tb_rd_u16(&r);
    uint16_t spec_len = tb_rd_u16(&r);
    uint16_t sid_len = tb_rd_u16(&r);
    uint16_t challenge_len = tb_rd_u16(&r);
    struct tb_reader specs = tb_rd_sub(&r, spec_len);
    while (tb_rd_left(&specs) >= 3) {
        uint8_t hi = tb_rd_u8(&specs);
        uint16_t lo = tb_rd_u16(&specs);
        if (hi == 0) {
            list_add(&ch->cipher_suites, lo);
        }
    }
    tb_rd_skip(&r, sid_len);
    tb_rd_skip(&r, challenge_len);
    struct tb_event *e = hs_event(t, TB_DIR_C2S, TB_HS_CLIENT_HELLO, len, frame, ts_us, false);
    if (e != NULL) {
        e->note = "SSLv2-format ClientHello";
    }
    if (!tb_rd_ok(&r)) {
        tb_tls_parse_error(t, TB_DIR_C2S, frame, "SSLv2 client_hello", r.err, r.err_at);
    }
    /* The transcript starts with the SSLv2 message bytes (RFC 5246 E.2). */
    if (tb_buf_append(&t->transcript, msg, len) != TB_OK) {
        t->transcript_over_cap = true;
    }
}
