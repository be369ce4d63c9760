package io.vmsched.cluster;

import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.balloon.BalloonResult.Outcome;
import io.vmsched.journal.BalloonRecord;
import io.vmsched.journal.Journal;
import io.vmsched.journal.RecordType;
import io.vmsched.load.HostCapacity;
import io.vmsched.schedule.Schedule;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * A host's side of the balloon: it journals each request (BALLOON_REQUESTED), posts it to the guest's
 * {@link BalloonedGuest} mailbox for the guest's next slice, collects the answer in its duty cycle, or ends the
 * request TIMED_OUT at its deadline, applies a processors change to the VM's weight, journals BALLOON_RESULT, and
 * tells the listener and the caller's future. An external VM's request goes to its hypervisor's driver
 * ({@link DriverMailbox}) instead. A request the host can answer itself (a bad target, no balloon, a
 * migrating VM, one in flight already) gets both records at once. The agent never waits for a guest.
 * <p>
 * A guest (or driver) that took a request and answers after its deadline still changed what it holds: that late
 * answer is journaled as a second BALLOON_RESULT of the same request, so recovery restarts the guest at the size it
 * really has; until it comes the VM is not asked again.
 * <p>
 * Invariant: every BALLOON_REQUESTED is followed by its BALLOON_RESULT unless the host crashes in between; each
 * API call is settled once, when its result is known; the last BALLOON_RESULT of a VM that moved it is what the VM
 * holds.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's agent only.
 */
final class HostBalloons
{
    private final int hostId;
    private final HostConfig config;
    private final ClusterView view;
    private final Journal journal;
    private final Schedule schedule;
    private final HostCapacity capacity;
    private final List<InFlight> inFlight = new ArrayList<>();
    private final List<InFlight> late = new ArrayList<>(); // timed out, taken by the guest: its answer still comes
    private final UnsafeBuffer payload =
        new UnsafeBuffer(new byte[BalloonRecord.FIXED_LENGTH + BalloonRecord.MAX_REASON_BYTES]);
    private long lastRequestId;

    /** A request posted to a guest, waiting for its answer. */
    private static final class InFlight
    {
        final BalloonRequest request;
        final long callId;
        final HostVm vm;
        final BalloonMailbox guest;

        InFlight(final BalloonRequest request, final long callId, final HostVm vm, final BalloonMailbox guest)
        {
            this.request = request;
            this.callId = callId;
            this.vm = vm;
            this.guest = guest;
        }
    }

    HostBalloons(final int hostId, final HostConfig config, final ClusterView view, final Journal journal,
        final Schedule schedule, final HostCapacity capacity)
    {
        this.hostId = hostId;
        this.config = config;
        this.view = view;
        this.journal = journal;
        this.schedule = schedule;
        this.capacity = capacity;
    }

    // the host's own turn (turn()): scratch grown as VMs come, never per turn
    private long[] held = new long[16];
    private long[] natural = new long[16];
    private boolean[] askable = new boolean[16];
    private HostVm[] candidates = new HostVm[16];
    private final int[] chosen = new int[1];

    /**
     * The host's own balloon turn ({@link HostConfig#balloonPolicy}), at its balance turn: at most one request,
     * decided by the {@link io.vmsched.balloon.BalloonPolicy} the simulator runs too, from what each VM reported
     * holding at its last slice.
     *
     * @param vms the host's VMs.
     * @param now the agent's clock.
     * @return whether the host should shed nothing by migration this turn: over the band with a balloon that may
     *         still free the excess.
     */
    boolean turn(final VmTable vms, final long now)
    {
        final io.vmsched.balloon.BalloonPolicy policy = config.balloonPolicy;
        if (policy == null)
        {
            return false;
        }
        final int size = vms.size();
        if (held.length < size)
        {
            final int length = Math.max(size, held.length * 2);
            held = new long[length];
            natural = new long[length];
            askable = new boolean[length];
            candidates = new HostVm[length];
        }
        int n = 0;
        int mayFree = inFlight.size();
        double used = 0;
        for (int i = 0; i < size; i++)
        {
            final HostVm vm = vms.at(i);
            final int slot = schedule.slotOf(vm.vmId);
            if (slot == Schedule.NO_SLOT || (vm.external && vm.balloonDriver == null))
            {
                continue;
            }
            final long memory = vm.external ? (long)vm.usageMemory : schedule.memBytes(slot); // measured outside
            if (vm.balloonShortAt >= 0 && memory > vm.balloonShortAt)
            {
                vm.balloonShortAt = -1; // it grew: it may have something to give again
            }
            final boolean canAsk = mailbox(vm) != null && vm.out == null && vm.balloonShortAt < 0 && !asked(vm);
            held[n] = memory;
            natural[n] = Math.max(vm.balloonNatural, memory);
            askable[n] = canAsk;
            candidates[n] = vm;
            used += memory;
            mayFree += canAsk ? 1 : 0;
            n++;
        }
        final long target = policy.decide(capacity.memoryBytes(), n, held, natural, askable, chosen);
        if (target != io.vmsched.balloon.BalloonPolicy.NONE)
        {
            final HostVm vm = candidates[chosen[0]];
            if (vm.balloonNatural == 0 && target < held[chosen[0]])
            {
                vm.balloonNatural = held[chosen[0]];
            }
            request(vm, target, BalloonRequest.UNCHANGED, 0, now);
        }
        java.util.Arrays.fill(candidates, 0, n, null);
        // held by what the load counts (smoothed): a balloon that gave lowers the load only over a few samples,
        // and the exchange would move a VM meanwhile
        final double counted = Double.longBitsToDouble(view.usedMemoryBits.get(hostId));
        return policy.holdsMigrations(capacity.memoryBytes(), Math.max(used, counted), mayFree);
    }

    private boolean asked(final HostVm vm)
    {
        return callOf(inFlight, vm) != null || callOf(late, vm) != null;
    }

    private static InFlight callOf(final List<InFlight> calls, final HostVm vm)
    {
        for (int i = 0; i < calls.size(); i++)
        {
            if (calls.get(i).vm == vm)
            {
                return calls.get(i);
            }
        }
        return null;
    }

    /** @return where this VM's balloon is asked: its guest's mailbox, its hypervisor's driver, or null if none. */
    private static BalloonMailbox mailbox(final HostVm vm)
    {
        if (vm.external)
        {
            return vm.balloonDriver;
        }
        return vm.guest instanceof BalloonedGuest && ((BalloonedGuest)vm.guest).balloon != null ?
            (BalloonedGuest)vm.guest : null;
    }

    /** Recovery: request ids go on above the journal's (unique per host across restarts). */
    void lastRequestId(final long id)
    {
        lastRequestId = Math.max(lastRequestId, id);
    }

    /** @return requests posted to guests and not answered yet (late ones included). */
    int inFlight()
    {
        return inFlight.size() + late.size();
    }

    /**
     * Ask a VM on this host for targets (journaled at once; the answer comes on the guest's next slice).
     *
     * @param vm          the VM, here.
     * @param memoryBytes the memory target as the caller gave it ({@link BalloonRequest#UNCHANGED} to leave it).
     * @param processors  the processors target, the guest's weight ({@link BalloonRequest#UNCHANGED} to leave it).
     * @param callId      the caller's call, or 0 for the host's own request (recovery's): nothing to settle.
     * @param now         the agent's clock.
     */
    void request(final HostVm vm, final long memoryBytes, final int processors, final long callId, final long now)
    {
        final long requestId = ++lastRequestId;
        journal.appendPayload(RecordType.BALLOON_REQUESTED, 0, vm.vmId, -1, 0, 0, 0, payload, 0,
            BalloonRecord.encode(payload, 0, requestId, memoryBytes, processors, null, null));
        final String bad = badTarget(vm.vmId, memoryBytes, processors);
        if (bad != null)
        {
            finish(requestId, vm, callId, Outcome.REFUSED, bad);
            return;
        }
        final BalloonMailbox guest = mailbox(vm);
        if (guest == null)
        {
            finish(requestId, vm, callId, Outcome.NO_BALLOON, vm.external ?
                "vm " + vm.vmId + " is an external VM without a balloon driver (HostConfig.externalBalloons gave none)" :
                "vm " + vm.vmId + "'s guest has no balloon (Guest.balloon() is null)");
            return;
        }
        if (vm.out != null)
        {
            finish(requestId, vm, callId, Outcome.REFUSED, "vm " + vm.vmId + " is migrating: ask it where it lands");
            return;
        }
        final InFlight asked = callOf(inFlight, vm);
        final InFlight answering = asked != null ? asked : callOf(late, vm);
        if (answering != null)
        {
            finish(requestId, vm, callId, Outcome.REFUSED, "vm " + vm.vmId + " has balloon request " +
                answering.request.requestId() + (asked != null ? " in flight" : " past its deadline, its answer still " +
                "awaited") + ": ask again when it ends");
            return;
        }
        final BalloonRequest request = new BalloonRequest(requestId, vm.vmId, memoryBytes, processors,
            now + config.balloonTimeoutNs);
        guest.offer(request);
        inFlight.add(new InFlight(request, callId, vm, guest));
    }

    /** @return the reason a target is bad, in one line, or null if it may be asked. */
    private String badTarget(final long vmId, final long memoryBytes, final int processors)
    {
        try
        {
            new BalloonRequest(0, vmId, memoryBytes, processors, 0); // its own checks: negative, nothing asked
        }
        catch (final IllegalArgumentException ex)
        {
            return "vm " + vmId + ": " + ex.getMessage();
        }
        if (memoryBytes > capacity.memoryBytes())
        {
            return "vm " + vmId + ": a memory target of " + memoryBytes + " bytes exceeds host " + hostId +
                "'s memory of " + (long)capacity.memoryBytes() + " bytes";
        }
        final int maxWeight = Math.min(Schedule.MAX_WEIGHT, Schedule.MAX_SLICE_NANOS / schedule.quantumNanos());
        if (processors > maxWeight)
        {
            return "vm " + vmId + ": a processor target (weight) of " + processors + " exceeds the largest weight, " +
                maxWeight;
        }
        return null;
    }

    /**
     * Collect the answers that came and end the requests whose deadline passed.
     *
     * @param now the agent's clock.
     * @return requests ended.
     */
    int poll(final long now)
    {
        int ended = 0;
        for (int i = inFlight.size() - 1; i >= 0; i--)
        {
            final InFlight call = inFlight.get(i);
            final BalloonResult answer = call.guest.answer(call.request);
            if (answer == null && now - call.request.deadlineNs() < 0)
            {
                continue;
            }
            inFlight.remove(i);
            ended++;
            if (answer == null)
            {
                if (!call.guest.withdraw(call.request))
                {
                    late.add(call); // the guest has it: what it does still counts
                }
                finish(call.request.requestId(), call.vm, call.callId, Outcome.TIMED_OUT, "vm " + call.vm.vmId +
                    " did not answer within " + config.balloonTimeoutNs / 1_000_000 + " ms (no slice ran its balloon, " +
                    "or it ran past the deadline)");
            }
            else
            {
                answered(call, answer);
            }
        }
        for (int i = late.size() - 1; i >= 0; i--)
        {
            final InFlight call = late.get(i);
            final BalloonResult answer = call.guest.answer(call.request);
            if (answer != null)
            {
                late.remove(i);
                ended++;
                if (answer.moved()) // it changed what the guest holds after TIMED_OUT was journaled
                {
                    answered(new InFlight(call.request, 0, call.vm, call.guest), new BalloonResult(answer.requestId(),
                        answer.vmId(), answer.outcome(), answer.memoryBytes(), answer.processors(),
                        "answered after its deadline" + (answer.reason().isEmpty() ? "" : ": " + answer.reason())));
                }
            }
        }
        return ended;
    }

    /** The guest answered: check what it says, apply its weight, and end the request. */
    private void answered(final InFlight call, final BalloonResult answer)
    {
        final HostVm vm = call.vm;
        int processors = answer.processors() < 0 || call.request.processors() == BalloonRequest.UNCHANGED ?
            vm.weight : answer.processors(); // only a request for processors changes them
        final int maxWeight = Math.min(Schedule.MAX_WEIGHT, Schedule.MAX_SLICE_NANOS / schedule.quantumNanos());
        if (processors < 1 || processors > maxWeight)
        {
            end(call.callId, vm, new BalloonResult(answer.requestId(), vm.vmId, Outcome.FAILED, answer.memoryBytes(),
                vm.weight, "vm " + vm.vmId + "'s balloon answered a weight of " + processors + ", outside [1, " +
                maxWeight + "]"));
            return;
        }
        if (answer.moved() && processors != vm.weight && schedule.contains(vm.vmId))
        {
            schedule.setWeight(vm.vmId, processors);
            vm.weight = processors;
        }
        else if (!answer.moved())
        {
            processors = vm.weight;
        }
        end(call.callId, vm, new BalloonResult(answer.requestId(), vm.vmId, answer.outcome(), answer.memoryBytes(),
            processors, answer.reason()));
    }

    private void finish(final long requestId, final HostVm vm, final long callId, final Outcome outcome,
        final String reason)
    {
        end(callId, vm, new BalloonResult(requestId, vm.vmId, outcome, -1, vm.weight, reason));
    }

    /** Journal the result, then tell the listener and the caller, then settle the call. */
    private void end(final long callId, final HostVm vm, final BalloonResult result)
    {
        if (result.outcome() != Outcome.MET)
        {
            // not asked again until it grew past what it holds now (a guest that cannot give, or take, more)
            final int slot = schedule.slotOf(vm.vmId);
            vm.balloonShortAt = result.memoryBytes() >= 0 ? result.memoryBytes() :
                slot == Schedule.NO_SLOT ? 0 : schedule.memBytes(slot);
        }
        else if (result.outcome() == Outcome.MET && result.memoryBytes() >= vm.balloonNatural)
        {
            vm.balloonNatural = 0; // back to its own size
        }
        journal.appendPayload(RecordType.BALLOON_RESULT, 0, vm.vmId, -1, 0, 0, 0, payload, 0, BalloonRecord.encode(
            payload, 0, result.requestId(), result.memoryBytes(), result.processors(), result.outcome(), result.reason()));
        tell(callId, result);
    }

    /** Tell the listener and the caller's future (no journal: the host could not ask, or is closing). */
    void tell(final long callId, final BalloonResult result)
    {
        try
        {
            view.listener.onBalloon(result);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex); // the result stands: a listener's failure is not the request's
        }
        if (callId != 0)
        {
            final java.util.concurrent.CompletableFuture<BalloonResult> future = view.balloonCalls.remove(callId);
            if (future != null)
            {
                future.complete(result);
            }
            view.settled();
        }
    }

    /**
     * A call that never reached a guest's host ends (the host closed, or the VM moved to another node): its future
     * is told FAILED. The caller settles it ({@link Requests#failed}).
     */
    void failCall(final long callId, final long vmId, final String reason)
    {
        final java.util.concurrent.CompletableFuture<BalloonResult> future = view.balloonCalls.remove(callId);
        if (future != null)
        {
            future.complete(new BalloonResult(0, vmId, Outcome.FAILED, -1, -1, reason));
        }
    }

    /** At close: the requests still waiting for a guest end FAILED, journaled, so none is left open. */
    void failAll(final String reason)
    {
        for (int i = inFlight.size() - 1; i >= 0; i--)
        {
            final InFlight call = inFlight.remove(i);
            call.guest.withdraw(call.request);
            finish(call.request.requestId(), call.vm, call.callId, Outcome.FAILED, reason);
        }
        late.clear(); // a restart asks the guest again for the size the journal holds
    }

    /** A VM leaves this host (removed, migrated): a request in flight for it ends REFUSED. */
    void left(final HostVm vm, final String reason)
    {
        late.removeIf(call -> call.vm == vm); // it takes what it holds with it (its state, or its process)
        for (int i = inFlight.size() - 1; i >= 0; i--)
        {
            final InFlight call = inFlight.get(i);
            if (call.vm == vm)
            {
                inFlight.remove(i);
                call.guest.withdraw(call.request);
                finish(call.request.requestId(), vm, call.callId, Outcome.REFUSED, reason);
            }
        }
    }
}
