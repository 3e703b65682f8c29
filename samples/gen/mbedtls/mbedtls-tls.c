/* mbedtls-tls: a tiny mbedTLS 2.28 (Debian libmbedtls-dev) TLS 1.2 server and
 * client for tlsblame sample captures. The library decides what goes on the
 * wire; the program only reports mbedTLS's return codes, in the wording of
 * mbedTLS's own ssl_server2/ssl_client2 ("failed ! mbedtls_ssl_handshake
 * returned -0x...").
 *
 *   mbedtls-tls server HOST PORT CHAIN KEY CAFILE [required|optional|none]
 *   mbedtls-tls client HOST PORT SNI CAFILE [CHAIN KEY]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

static void fail(const char *what, int ret)
{
    char buf[200];
    mbedtls_strerror(ret, buf, sizeof buf);
    printf(" failed ! %s returned -0x%04x: %s\n", what, (unsigned)-ret, buf);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s server HOST PORT CHAIN KEY CAFILE [required|optional|none]\n"
                        "       %s client HOST PORT SNI CAFILE [CHAIN KEY]\n", argv[0], argv[0]);
        return 2;
    }
    int server = strcmp(argv[1], "server") == 0;
    mbedtls_net_context lsn, conn;
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca, own;
    mbedtls_pk_context key;
    int ret, have_own = 0;
    const char *cafile = server ? NULL : argv[5];

    setvbuf(stdout, NULL, _IONBF, 0);
    mbedtls_net_init(&lsn); mbedtls_net_init(&conn);
    mbedtls_entropy_init(&ent); mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_init(&ssl); mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca); mbedtls_x509_crt_init(&own); mbedtls_pk_init(&key);
    if ((ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, (const unsigned char *)"tlsblame", 8)) != 0) { fail("mbedtls_ctr_drbg_seed", ret); return 1; }
    if (server) {
        if (argc < 7) return 2;
        cafile = argv[6];
        if ((ret = mbedtls_x509_crt_parse_file(&own, argv[4])) != 0) { fail("mbedtls_x509_crt_parse_file", ret); return 1; }
        if ((ret = mbedtls_pk_parse_keyfile(&key, argv[5], NULL)) != 0) { fail("mbedtls_pk_parse_keyfile", ret); return 1; }
        have_own = 1;
    } else if (argc >= 8) {
        if ((ret = mbedtls_x509_crt_parse_file(&own, argv[6])) != 0) { fail("mbedtls_x509_crt_parse_file", ret); return 1; }
        if ((ret = mbedtls_pk_parse_keyfile(&key, argv[7], NULL)) != 0) { fail("mbedtls_pk_parse_keyfile", ret); return 1; }
        have_own = 1;
    }
    if ((ret = mbedtls_x509_crt_parse_file(&ca, cafile)) != 0) { fail("mbedtls_x509_crt_parse_file (CA)", ret); return 1; }
    if ((ret = mbedtls_ssl_config_defaults(&conf, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                           MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)) != 0) { fail("mbedtls_ssl_config_defaults", ret); return 1; }
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    int authmode = MBEDTLS_SSL_VERIFY_REQUIRED;
    if (server && argc > 7) {
        if (strcmp(argv[7], "optional") == 0) authmode = MBEDTLS_SSL_VERIFY_OPTIONAL;
        else if (strcmp(argv[7], "none") == 0) authmode = MBEDTLS_SSL_VERIFY_NONE;
    }
    mbedtls_ssl_conf_authmode(&conf, authmode);
    if (have_own && (ret = mbedtls_ssl_conf_own_cert(&conf, &own, &key)) != 0) { fail("mbedtls_ssl_conf_own_cert", ret); return 1; }
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) { fail("mbedtls_ssl_setup", ret); return 1; }

    if (server) {
        if ((ret = mbedtls_net_bind(&lsn, argv[2], argv[3], MBEDTLS_NET_PROTO_TCP)) != 0) { fail("mbedtls_net_bind", ret); return 1; }
        printf("  . Waiting for a remote connection on %s:%s ...\n", argv[2], argv[3]);
        if ((ret = mbedtls_net_accept(&lsn, &conn, NULL, 0, NULL)) != 0) { fail("mbedtls_net_accept", ret); return 1; }
    } else {
        if ((ret = mbedtls_ssl_set_hostname(&ssl, argv[4])) != 0) { fail("mbedtls_ssl_set_hostname", ret); return 1; }
        if ((ret = mbedtls_net_connect(&conn, argv[2], argv[3], MBEDTLS_NET_PROTO_TCP)) != 0) { fail("mbedtls_net_connect", ret); return 1; }
    }
    mbedtls_ssl_set_bio(&ssl, &conn, mbedtls_net_send, mbedtls_net_recv, NULL);
    while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        fail("mbedtls_ssl_handshake", ret);
        uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
        if (flags != 0 && flags != (uint32_t)-1) {
            char vb[512];
            mbedtls_x509_crt_verify_info(vb, sizeof vb, "  ! ", flags);
            printf("  . Verifying peer X.509 certificate... failed\n%s", vb);
        }
        mbedtls_net_free(&conn);   /* what ssl_server2 does: close the socket */
        return 1;
    }
    printf("  . Handshake ok: [ Protocol is %s ] [ Ciphersuite is %s ]\n",
           mbedtls_ssl_get_version(&ssl), mbedtls_ssl_get_ciphersuite(&ssl));
    unsigned char buf[512];
    if (server) {
        ret = mbedtls_ssl_read(&ssl, buf, sizeof buf - 1);
        if (ret > 0) {
            buf[ret] = 0;
            char out[600];
            int n = snprintf(out, sizeof out, "hello %s", (char *)buf);
            mbedtls_ssl_write(&ssl, (unsigned char *)out, (size_t)n);
        }
    } else {
        mbedtls_ssl_write(&ssl, (const unsigned char *)"ping from mbedtls\n", 18);
        ret = mbedtls_ssl_read(&ssl, buf, sizeof buf - 1);
        if (ret > 0) { buf[ret] = 0; printf("  . got %s", (char *)buf); }
    }
    mbedtls_ssl_close_notify(&ssl);
    mbedtls_net_free(&conn);
    mbedtls_net_free(&lsn);
    return 0;
}
