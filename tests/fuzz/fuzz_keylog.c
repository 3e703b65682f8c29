/*
 * fuzz_keylog.c - the key log parser on hostile text, and the same bytes
 * read as a pcapng file by the Decryption Secrets Block walker (fmemopen).
 * Every client random the input could name is looked up afterwards.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tlsblame/keylog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tb_keylog *kl = tb_keylog_new();
    struct tb_keylog_stats st;
    size_t blocks = 0;
    uint8_t random[32];

    if (kl == NULL) {
        return 0;
    }
    tb_keylog_set_quiet(kl, true);
    if (tb_keylog_load_mem(kl, "fuzz", data, size) != TB_OK) {
        tb_keylog_free(kl);
        return 0;
    }
    /* fmemopen wants a non-empty, writable-typed buffer; it only reads it ("rb"). */
    if (size > 0) {
        FILE *fp = fmemopen((void *)(uintptr_t)data, size, "rb");
        if (fp != NULL) {
            if (tb_keylog_load_pcapng_stream(kl, "fuzz.pcapng", fp, &blocks) != TB_OK) {
                /* not pcapng: expected for most inputs */
            }
            fclose(fp);
        }
    }
    tb_keylog_stats(kl, &st);
    memset(random, 0, sizeof random);
    (void)tb_keylog_find(kl, random); /* a miss or a hit: both fine */
    for (size_t i = 0; i + 32 <= size && i < 64; i++) {
        memcpy(random, data + i, 32);
        (void)tb_keylog_find(kl, random); /* randoms the input itself may have logged */
    }
    tb_keylog_free(kl);
    return 0;
}
