package io.vmsched.jfr;

import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Recording;
import jdk.jfr.RecordingState;

import java.util.HashSet;
import java.util.Set;

/**
 * Where the runtime emits its JFR events. Each method takes primitives and strings the runtime already
 * holds, and returns at once, allocating nothing, while no recording runs in this JVM (one volatile
 * read); while one runs, it makes the event and fills it only if {@code shouldCommit()} (the event
 * enabled in that recording's settings, past its threshold).
 * <p>
 * Whether a recording runs is kept by a {@link FlightRecorderListener} (told of every recording's
 * change of state, including those started by {@code -XX:StartFlightRecording} or {@code jcmd JFR.start})
 * plus one look at the recordings already running when this class loads. A stale "running" only costs
 * an event object that {@code shouldCommit()} then drops; "not running" is never stale, since the
 * listener is registered before that look.
 * <p>
 * Threadsafe.
 */
public final class FlightEvents
{
    /** {@link HandoffAbortEvent}'s side of a source's abort. */
    public static final String SOURCE = "source";
    /** {@link HandoffAbortEvent}'s side of a target's abort. */
    public static final String TARGET = "target";

    private static final Set<Long> RUNNING = new HashSet<>(); // guarded by itself
    private static volatile boolean recording;

    static
    {
        try
        {
            FlightRecorder.addListener(new FlightRecorderListener()
            {
                @Override
                public void recordingStateChanged(final Recording r)
                {
                    // no call into JFR here: it holds its own locks while it tells listeners
                    changed(r.getId(), r.getState() == RecordingState.RUNNING);
                }
            });
            if (FlightRecorder.isInitialized())
            {
                for (final Recording r : FlightRecorder.getFlightRecorder().getRecordings())
                {
                    if (r.getState() == RecordingState.RUNNING)
                    {
                        changed(r.getId(), true);
                    }
                }
            }
        }
        catch (final RuntimeException | LinkageError ex)
        {
            // no Flight Recorder in this JVM (or not allowed): nothing is ever recorded, nothing breaks
        }
    }

    private FlightEvents()
    {
    }

    private static void changed(final long id, final boolean running)
    {
        synchronized (RUNNING)
        {
            if (running)
            {
                RUNNING.add(id);
            }
            else
            {
                RUNNING.remove(id);
            }
            recording = !RUNNING.isEmpty();
        }
    }

    /** @return whether a recording may be running in this JVM (a hint: the events check their own settings). */
    public static boolean recording()
    {
        return recording;
    }

    /**
     * A handoff begins: the source journaled MIGRATION_INTENT.
     *
     * @param source       the source host (which emits it).
     * @param migrationId  the migration.
     * @param vmId         the VM.
     * @param target       the target host.
     * @param loadOnSource the VM's load on the source.
     * @param loadOnTarget its load on the target.
     */
    public static void handoffBegin(final int source, final long migrationId, final long vmId, final int target,
        final double loadOnSource, final double loadOnTarget)
    {
        if (!recording)
        {
            return;
        }
        final HandoffBeginEvent event = new HandoffBeginEvent();
        if (event.shouldCommit())
        {
            event.set(source, migrationId, vmId, source, target);
            event.loadOnSource = loadOnSource;
            event.loadOnTarget = loadOnTarget;
            event.commit();
        }
    }

    /**
     * The source journaled SUSPENDED and offers the transfer (emitted just before the send, so that it precedes the
     * target's ack; a send that fails is followed by the source's abort event).
     *
     * @param source      the source host (which emits it).
     * @param migrationId the migration.
     * @param vmId        the VM.
     * @param target      the target host.
     * @param bytes       the transfer message's length.
     */
    public static void handoffTransfer(final int source, final long migrationId, final long vmId, final int target,
        final int bytes)
    {
        if (!recording)
        {
            return;
        }
        final HandoffTransferEvent event = new HandoffTransferEvent();
        if (event.shouldCommit())
        {
            event.set(source, migrationId, vmId, source, target);
            event.bytes = bytes;
            event.commit();
        }
    }

    /**
     * The target journaled ACTIVATED (the commit point) and acks.
     *
     * @param target      the target host (which emits it).
     * @param migrationId the migration.
     * @param vmId        the VM.
     * @param source      the source host.
     */
    public static void handoffAck(final int target, final long migrationId, final long vmId, final int source)
    {
        if (!recording)
        {
            return;
        }
        final HandoffAckEvent event = new HandoffAckEvent();
        if (event.shouldCommit())
        {
            event.set(target, migrationId, vmId, source, target);
            event.commit();
        }
    }

    /**
     * The source journaled COMMITTED.
     *
     * @param source      the source host (which emits it).
     * @param migrationId the migration.
     * @param vmId        the VM.
     * @param target      the target host.
     * @param durationNs  from MIGRATION_INTENT to COMMITTED at the source.
     */
    public static void handoffCommit(final int source, final long migrationId, final long vmId, final int target,
        final long durationNs)
    {
        if (!recording)
        {
            return;
        }
        final HandoffCommitEvent event = new HandoffCommitEvent();
        if (event.shouldCommit())
        {
            event.set(source, migrationId, vmId, source, target);
            event.handoffDuration = durationNs;
            event.commit();
        }
    }

    /**
     * A side journaled ABORTED.
     *
     * @param host        the host that aborted (which emits it).
     * @param side        {@link #SOURCE} or {@link #TARGET}.
     * @param migrationId the migration.
     * @param vmId        the VM.
     * @param source      the source host.
     * @param target      the target host.
     * @param reason      the coded reason's label.
     * @param detail      the reason in words, as journaled.
     */
    public static void handoffAbort(final int host, final String side, final long migrationId, final long vmId,
        final int source, final int target, final String reason, final String detail)
    {
        if (!recording)
        {
            return;
        }
        final HandoffAbortEvent event = new HandoffAbortEvent();
        if (event.shouldCommit())
        {
            event.set(host, migrationId, vmId, source, target);
            event.side = side;
            event.reason = reason;
            event.detail = detail;
            event.commit();
        }
    }

    /**
     * A balance exchange decided (what the DECISION journal record holds).
     *
     * @param host         the deciding (shedding) host.
     * @param peer         its peer.
     * @param hostLoad     the host's load.
     * @param peerLoad     the peer's load.
     * @param threshold    the difference the pair had to exceed.
     * @param meanEstimate the host's estimate of the mean load.
     * @param outcome      the outcome's label.
     * @param moves        VMs chosen to move.
     * @param firstVm      the first chosen, -1 if none.
     * @param detail       the decision in words, as journaled.
     */
    public static void balanceDecision(final int host, final int peer, final double hostLoad, final double peerLoad,
        final double threshold, final double meanEstimate, final String outcome, final int moves, final long firstVm,
        final String detail)
    {
        if (!recording)
        {
            return;
        }
        final BalanceDecisionEvent event = new BalanceDecisionEvent();
        if (event.shouldCommit())
        {
            event.host = host;
            event.peer = peer;
            event.hostLoad = hostLoad;
            event.peerLoad = peerLoad;
            event.threshold = threshold;
            event.meanEstimate = meanEstimate;
            event.outcome = outcome;
            event.moves = moves;
            event.firstVm = firstVm;
            event.detail = detail;
            event.commit();
        }
    }

    /**
     * A service's status changed.
     *
     * @param service  the service.
     * @param status   its status now (healthy, degraded, failed).
     * @param previous its status before, or null.
     * @param cause    why, in words.
     */
    public static void serviceStatus(final String service, final String status, final String previous,
        final String cause)
    {
        if (!recording)
        {
            return;
        }
        final ServiceStatusEvent event = new ServiceStatusEvent();
        if (event.shouldCommit())
        {
            event.service = service;
            event.status = status;
            event.previous = previous == null ? "" : previous;
            event.cause = cause;
            event.commit();
        }
    }
}
