#ifndef TLSBLAME_COMMON_H
#define TLSBLAME_COMMON_H
/* common.h - small vocabulary types used by every stage. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tb_dir { TB_DIR_C2S = 0, TB_DIR_S2C = 1 };
#define TB_DIR_COUNT 2
static inline enum tb_dir tb_dir_other(enum tb_dir d)
{
    return d == TB_DIR_C2S ? TB_DIR_S2C : TB_DIR_C2S;
}
static inline const char *tb_dir_side(enum tb_dir d)
{
    return d == TB_DIR_C2S ? "client" : "server";
}

/* A fact that may not be knowable from the capture (TLS 1.3 without keys, ...). */
enum tb_tri { TB_TRI_UNKNOWN = 0, TB_TRI_NO = 1, TB_TRI_YES = 2 };
static inline enum tb_tri tb_tri_from_bool(bool b)
{
    return b ? TB_TRI_YES : TB_TRI_NO;
}

#endif
