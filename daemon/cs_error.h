/* Corosync's error codes (cs_error_t) as words for administrators.
 *
 * cs_strerror() only names the enum ("CS_ERR_LIBRARY"); these say what
 * usually lies behind it, so that "cannot connect to corosync" comes with
 * a reason one can act on, not a number.
 */
#pragma once

/* Never NULL; an unknown code gives "unknown corosync error". */
const char *vmha_cs_error_text(int err);
