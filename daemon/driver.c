/* The names of the driver interface's values (driver.h). */
#include "daemon/driver.h"

const char *driver_report_name(enum driver_report_type t) {
        switch (t) {
        case DRIVER_REPORT_STARTED: return "started";
        case DRIVER_REPORT_START_FAILED: return "start failed";
        case DRIVER_REPORT_STOPPED: return "stopped";
        case DRIVER_REPORT_DIED: return "died";
        }
        return "?";
}

const char *driver_domain_state_name(enum driver_domain_state st) {
        switch (st) {
        case DRIVER_DOMAIN_RUNNING: return "running";
        case DRIVER_DOMAIN_PAUSED: return "paused";
        case DRIVER_DOMAIN_STOPPING: return "stopping";
        }
        return "?";
}
