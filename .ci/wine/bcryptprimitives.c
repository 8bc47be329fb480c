/* Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's std on
 * Windows calls for random bytes (HashMap seeds, temporary file names), so a
 * Windows build cannot start under it. This stand-in exports ProcessPrng and
 * fills the buffer from RtlGenRandom (advapi32's SystemFunction036), which
 * Wine does have. Only .ci/cross builds it, only to run tests under Wine: a
 * real Windows has the real DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom takes a ULONG: feed a large request in pieces. */
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
