/* haadm plan: placeholder until the planner lands. */
#include "tools/haadm.h"

int haadm_plan_main(int argc, char **argv) {
        (void)argc;
        (void)argv;
        return haadm_usage_error("plan: not available in this build");
}
