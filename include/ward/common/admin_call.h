/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The seL4 admin PD's call to a ward PD (a protected procedure call,
 * src/host/sel4/admin_pd.c to src/hv/microkit/vmm_pd.c): MR0 is an
 * operation (WARD_POLICY_*, checked by the admin PD against the policy) or
 * WARD_ADMIN_CALL_STATUS; the answer's MR0 is a result, MR1 the VM's state
 * after it, MR2 its restarts by the failure policy. One definition for
 * both ends.
 */
#ifndef WARD_COMMON_ADMIN_CALL_H
#define WARD_COMMON_ADMIN_CALL_H

#define WARD_ADMIN_CALL_STATUS 100

enum ward_admin_result {
        WARD_ADMIN_DONE,        /* done */
        WARD_ADMIN_ALREADY,     /* the VM is in that state already */
        WARD_ADMIN_NOT_RUNNING, /* pause of a VM that does not run */
        WARD_ADMIN_NOT_PAUSED,  /* resume of a VM that is not paused */
        WARD_ADMIN_STARTING,    /* starts once its disk is idle */
        WARD_ADMIN_NRESULTS,
};

enum ward_admin_state {
        WARD_ADMIN_RUNNING,
        WARD_ADMIN_PAUSED,
        WARD_ADMIN_STOPPED,
        WARD_ADMIN_STARTING_STATE, /* a start waits for its disk or its back-off */
        WARD_ADMIN_NSTATES,
};

#endif
