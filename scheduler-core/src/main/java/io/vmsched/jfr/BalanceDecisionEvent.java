package io.vmsched.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A host's balance exchange with a peer decided (a DECISION journal record: the pair's difference passed the threshold). */
@Name(BalanceDecisionEvent.NAME)
@Label("Balance Decision")
@Description("A host's exchange with a peer decided what to move, or why nothing")
@Category({"vmsched", "Balance"})
@StackTrace(false)
public final class BalanceDecisionEvent extends Event
{
    /** The event type's name in a recording. */
    public static final String NAME = "vmsched.BalanceDecision";

    @Label("Host")
    @Description("The shedding host, which decided")
    int host;

    @Label("Peer")
    int peer;

    @Label("Host Load")
    double hostLoad;

    @Label("Peer Load")
    double peerLoad;

    @Label("Threshold")
    @Description("The difference the pair had to exceed for a move")
    double threshold;

    @Label("Mean Estimate")
    @Description("The host's estimate of the cluster's mean load")
    double meanEstimate;

    @Label("Outcome")
    @Description("io.vmsched.balance.DecisionOutcome's label, e.g. moved, no-gain")
    String outcome;

    @Label("Moves")
    @Description("VMs chosen to move")
    int moves;

    @Label("First VM")
    @Description("The first VM chosen, -1 if none")
    long firstVm;

    @Label("Detail")
    @Description("The decision in words, as journaled: the candidates chosen and rejected")
    String detail;
}
