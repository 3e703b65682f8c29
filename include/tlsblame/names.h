#ifndef TLSBLAME_NAMES_H
#define TLSBLAME_NAMES_H
/*
 * names.h - IANA registry names: versions, handshake types, alerts, cipher
 * suites, signature schemes, groups. Unknown codes get a stable
 * "unknown_0xNNNN"-style name written into the caller's buffer.
 */
#include <stddef.h>
#include <stdint.h>

struct tb_name_buf {
    char s[32];
};

const char *tb_version_name(uint16_t v, struct tb_name_buf *nb);   /* "TLS 1.2" */
const char *tb_hs_type_name(uint8_t t, struct tb_name_buf *nb);    /* "client_hello" */
const char *tb_alert_name(uint8_t d, struct tb_name_buf *nb);      /* "unknown_ca" */
const char *tb_cipher_name(uint16_t c, struct tb_name_buf *nb);    /* "TLS_AES_128_GCM_SHA256" */
const char *tb_sigalg_name(uint16_t s, struct tb_name_buf *nb);    /* "rsa_pkcs1_sha256" */
const char *tb_group_name(uint16_t g, struct tb_name_buf *nb);     /* "x25519" */
const char *tb_cert_type_name(uint8_t t, struct tb_name_buf *nb);  /* "rsa_sign" */
/* Is this a GREASE value (RFC 8701)? */
int tb_is_grease(uint16_t v);

#endif
