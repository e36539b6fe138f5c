/* A sentence for each corosync error code a client library returns. */
#include "daemon/cs_error.h"

#include <corosync/corotypes.h>

const char *vmha_cs_error_text(int err) {
        switch ((cs_error_t)err) {
        case CS_OK:
                return "no error";
        case CS_ERR_LIBRARY:
                return "corosync is not running (nothing answers on its IPC socket)";
        case CS_ERR_VERSION:
                return "the corosync libraries and the running corosync do not match";
        case CS_ERR_INIT:
                return "the corosync client library could not start";
        case CS_ERR_TIMEOUT:
                return "corosync did not answer in time";
        case CS_ERR_TRY_AGAIN:
                return "corosync is busy (try again)";
        case CS_ERR_INVALID_PARAM:
                return "invalid parameter";
        case CS_ERR_NO_MEMORY:
                return "out of memory";
        case CS_ERR_BAD_HANDLE:
                return "the connection to corosync is gone";
        case CS_ERR_BUSY:
                return "corosync is busy";
        case CS_ERR_ACCESS:
        case CS_ERR_SECURITY:
                return "corosync refused access (run as root or as a member of its uidgid group)";
        case CS_ERR_NOT_EXIST:
        case CS_ERR_NAME_NOT_FOUND:
                return "corosync does not have it (is the service or key configured?)";
        case CS_ERR_NAME_TOO_LONG:
                return "name too long";
        case CS_ERR_EXIST:
                return "already exists";
        case CS_ERR_NO_SPACE:
        case CS_ERR_NO_RESOURCES:
        case CS_ERR_QUEUE_FULL:
        case CS_ERR_TOO_MANY_GROUPS:
                return "corosync is out of resources";
        case CS_ERR_INTERRUPT:
                return "interrupted";
        case CS_ERR_NOT_SUPPORTED:
                return "not supported by this corosync";
        case CS_ERR_BAD_OPERATION:
        case CS_ERR_FAILED_OPERATION:
                return "the operation failed in corosync";
        case CS_ERR_MESSAGE_ERROR:
                return "corosync could not deliver the message";
        case CS_ERR_QUEUE_NOT_AVAILABLE:
                return "corosync's queue is not available";
        case CS_ERR_BAD_FLAGS:
                return "invalid flags";
        case CS_ERR_TOO_BIG:
                return "message too big";
        case CS_ERR_NO_SECTIONS:
        case CS_ERR_CONTEXT_NOT_FOUND:
                return "not found";
        }
        return "unknown corosync error";
}
