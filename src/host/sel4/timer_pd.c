/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The timer protection domain: wakes the VMM PDs whose vCPUs sleep in WFI.
 *
 * A vCPU parked by its VMM does not run, so its virtual timer cannot fire;
 * someone else has to wake it when the guest's next timer deadline comes.
 * This PD owns the EL1 physical timer for that: under EL2 seL4 keeps the
 * hypervisor timer for itself and gives the physical one to user level
 * (CONFIG_EXPORT_PTMR_USER, on in Microkit's SDK), its interrupt is PPI 30.
 *
 * Each client is a VMM PD on channel 1..TIMER_CLIENTS. It asks with a
 * protected procedure call: MR0 is a deadline on the physical counter
 * (CNTPCT), 0 to cancel. The answer's MR0 is 1 when that deadline has
 * passed already (the client must not wait for it), else 0; when it passes
 * later, the client's channel is notified once. A client has one deadline;
 * asking again replaces it. Nothing a client sends can reach another's.
 */
#include <microkit.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef TIMER_CLIENTS
#define TIMER_CLIENTS 1
#endif
#define CH_IRQ 0 /* the physical timer's PPI */

#define CTL_ENABLE 1ull

static uint64_t deadline[TIMER_CLIENTS + 1]; /* by channel; 0: none */

static uint64_t now(void)
{
        uint64_t v;
        __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
        return v;
}

static void timer_set(uint64_t cval)
{
        __asm__ volatile("msr cntp_cval_el0, %0\n\tmsr cntp_ctl_el0, %1\n\tisb"
                         :
                         : "r"(cval), "r"(CTL_ENABLE));
}

static void timer_off(void)
{
        __asm__ volatile("msr cntp_ctl_el0, %0\n\tisb" : : "r"(0ull));
}

/* Notifies every client whose deadline has passed; sets the timer for the next one. */
static void run_deadlines(void)
{
        uint64_t t = now(), next = 0;
        for (unsigned c = 1; c <= TIMER_CLIENTS; c++) {
                if (!deadline[c])
                        continue;
                if (deadline[c] <= t) {
                        deadline[c] = 0;
                        microkit_notify(c);
                } else if (!next || deadline[c] < next) {
                        next = deadline[c];
                }
        }
        /* The line is a level: off (or a later deadline) before the ack. */
        if (next)
                timer_set(next);
        else
                timer_off();
}

void init(void)
{
        timer_off();
}

void notified(microkit_channel ch)
{
        if (ch != CH_IRQ)
                return;
        run_deadlines();
        microkit_irq_ack(CH_IRQ);
}

microkit_msginfo protected(microkit_channel ch, microkit_msginfo msginfo)
{
        (void)msginfo;
        if (ch < 1 || ch > TIMER_CLIENTS)
                return microkit_msginfo_new(1, 0);
        uint64_t d = seL4_GetMR(0);
        bool passed = d && d <= now();
        deadline[ch] = passed ? 0 : d;
        run_deadlines();
        seL4_SetMR(0, passed);
        return microkit_msginfo_new(0, 1);
}
