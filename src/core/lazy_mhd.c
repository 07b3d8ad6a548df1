/*
** libmicrohttpd on first use (src/core/lazy.h): the dashboard's HTTP
** server.  MHD_start_daemon takes variable arguments, which C cannot pass
** on: its stub forwards them to MHD_start_daemon_va.
*/
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "core/lazy.h"

#define SPY_LAZY_LIB spy_lazy_mhd

#define FUNCS(F, V) \
  F(enum MHD_Result, MHD_add_response_header, (struct MHD_Response *response, const char *header, const char *content), (response, header, content), MHD_NO) \
  F(struct MHD_Response *, MHD_create_response_from_buffer, (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode), NULL) \
  F(struct MHD_Response *, MHD_create_response_from_callback, (uint64_t size, size_t block_size, MHD_ContentReaderCallback crc, void *crc_cls, MHD_ContentReaderFreeCallback crfc), (size, block_size, crc, crc_cls, crfc), NULL) \
  V(MHD_destroy_response, (struct MHD_Response *response), (response), (void)0) \
  F(const char *, MHD_lookup_connection_value, (struct MHD_Connection *connection, enum MHD_ValueKind kind, const char *key), (connection, kind, key), NULL) \
  F(enum MHD_Result, MHD_queue_response, (struct MHD_Connection *connection, unsigned int status_code, struct MHD_Response *response), (connection, status_code, response), MHD_NO) \
  F(struct MHD_Daemon *, MHD_start_daemon_va, (unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap), (flags, port, apc, apc_cls, dh, dh_cls, ap), NULL) \
  V(MHD_stop_daemon, (struct MHD_Daemon *daemon), (daemon), (void)0)

SPY_LAZY_DEFINE(FUNCS, SPY_SONAME_MHD, "libmicrohttpd12", NULL)

SPY_LAZY_HIDDEN struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
                                                     MHD_AcceptPolicyCallback apc, void *apc_cls,
                                                     MHD_AccessHandlerCallback dh, void *dh_cls,
                                                     ...)
{
  va_list ap;
  va_start(ap, dh_cls);
  struct MHD_Daemon *d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
  va_end(ap);
  return d;
}
