package io.vmsched.cluster;

import io.vmsched.dispatch.Guest;
import io.vmsched.handoff.HostMessages;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * The embedding API's side of the requests: each encoded with the {@link HostMessages} flyweights and
 * queued to the host that owns the VM, counted pending until that host settles it. Back-pressure: a
 * full inbox makes the call wait, up to {@link HostConfig#requestTimeoutNs}, then throw.
 * <p>
 * Threadsafe: called from any thread ({@link Cluster} holds its gate around each call).
 */
final class RequestSender
{
    private final ClusterConfig config;
    private final ClusterView view;
    private final HostRuntime[] hosts;

    RequestSender(final ClusterConfig config, final ClusterView view, final HostRuntime[] hosts)
    {
        this.config = config;
        this.view = view;
        this.hosts = hosts;
    }

    /** ADMIT: checked here, so a bad admission is refused to the caller, not later by the host. */
    void admit(final int host, final long vmId, final int weight, final Guest guest)
    {
        checkHost(host);
        if (guest == null)
        {
            throw new IllegalArgumentException("vm " + vmId + ": the guest is null");
        }
        if (guest.kind() == null || guest.kind().isEmpty())
        {
            throw new IllegalArgumentException("vm " + vmId + ": the guest " + guest.getClass().getName() +
                " has no kind (Guest.kind() is null or empty), so it could not be re-created after a migration");
        }
        if (weight < 1 || weight > io.vmsched.schedule.Schedule.MAX_WEIGHT)
        {
            throw new IllegalArgumentException("vm " + vmId + ": weight must be in [1, " +
                io.vmsched.schedule.Schedule.MAX_WEIGHT + "], got " + weight);
        }
        runtime(host);
        final byte[] kind = guest.kind().getBytes(StandardCharsets.UTF_8);
        final byte[] state = guest.snapshot();
        final int maxMessage = hosts[host].inbox().maxMsgLength();
        if (kind.length > 0xFFFF)
        {
            throw new IllegalArgumentException("vm " + vmId + ": guest kind name longer than 65535 bytes");
        }
        if (HostMessages.Transfer.HEADER_LENGTH + kind.length + state.length > maxMessage) // it must be able to migrate, not only arrive
        {
            throw new IllegalArgumentException("vm " + vmId + ": its state of " + state.length + " bytes does not fit a " +
                "message to host " + host + " (at most " + maxMessage + " bytes; raise HostConfig.inboxBytes)");
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HostMessages.Admit.HEADER_LENGTH + kind.length + state.length]);
        new HostMessages.Admit().wrap(buffer, 0).vmId(vmId).weight(weight).guest(kind, state);
        final Integer owner = view.owners.putIfAbsent(vmId, host); // reserves the id; the agent frees it if it refuses
        if (owner != null)
        {
            throw new IllegalArgumentException("vm " + vmId + " is already admitted (host " + owner + ")");
        }
        view.admitsQueued.incrementAndGet(host);
        try
        {
            send(host, Request.ADMIT, vmId, buffer);
        }
        catch (final IllegalStateException ex)
        {
            view.admitsQueued.decrementAndGet(host);
            view.owners.remove(vmId, host);
            throw ex;
        }
    }

    /** REMOVE, to the VM's owner. */
    void remove(final long vmId)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HostMessages.Remove.LENGTH]);
        new HostMessages.Remove().wrap(buffer, 0).vmId(vmId);
        send(ownerOf(vmId), Request.REMOVE, vmId, buffer);
    }

    /** MIGRATE, to the VM's owner. */
    void migrate(final long vmId, final int target)
    {
        checkHost(target);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HostMessages.Migrate.LENGTH]);
        new HostMessages.Migrate().wrap(buffer, 0).set(vmId, target);
        send(ownerOf(vmId), Request.MIGRATE, vmId, buffer);
    }

    /** BALLOON, to the VM's owner: the targets as given (its host refuses bad ones, journaled). */
    void balloon(final long vmId, final long memoryBytes, final int processors, final long callId)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HostMessages.Balloon.LENGTH]);
        new HostMessages.Balloon().wrap(buffer, 0).set(vmId, memoryBytes, processors, callId);
        send(ownerOf(vmId), Request.BALLOON, vmId, buffer);
    }

    /** PROGRAM or USAGE: a VM's usage, to its owner. */
    void usage(final Request request, final long vmId, final double cpu, final double io, final double memory)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[HostMessages.Usage.LENGTH]);
        new HostMessages.Usage().wrap(buffer, 0).set(vmId, cpu, io, memory);
        send(ownerOf(vmId), request, vmId, buffer);
    }

    private int ownerOf(final long vmId)
    {
        final Integer owner = view.owners.get(vmId);
        if (owner == null)
        {
            throw new IllegalArgumentException("vm " + vmId + (view.local >= 0 ? " is not on this node (host " + view.local + ")" :
                " is not in the cluster"));
        }
        return owner;
    }

    /** @return the host, which must run in this JVM. */
    private HostRuntime runtime(final int host)
    {
        final HostRuntime runtime = hosts[host];
        if (runtime == null)
        {
            throw new IllegalArgumentException("host " + host + " is another node's: ask that node (this one runs host " +
                view.local + ")");
        }
        return runtime;
    }

    /**
     * Queue a request to a host, counted as pending until the host settles it. Back-pressure: while the
     * inbox is full the call waits, up to {@link HostConfig#requestTimeoutNs}, then throws (at once on
     * an agent's own thread, which would otherwise wait for itself).
     */
    private void send(final int host, final Request request, final long vmId, final UnsafeBuffer buffer)
    {
        final HostRuntime runtime = runtime(host);
        view.pending.incrementAndGet();
        if (runtime.offer(request.messageType, buffer, 0, buffer.capacity()))
        {
            return;
        }
        if (!onAnAgentThread())
        {
            final long deadline = System.nanoTime() + config.hostConfig(host).requestTimeoutNs;
            long parkNs = 10_000;
            while (System.nanoTime() - deadline < 0)
            {
                java.util.concurrent.locks.LockSupport.parkNanos(parkNs);
                parkNs = Math.min(parkNs * 2, 1_000_000);
                if (runtime.offer(request.messageType, buffer, 0, buffer.capacity()))
                {
                    return;
                }
            }
        }
        view.settled();
        throw new IllegalStateException("host " + host + ": inbox full for " + config.hostConfig(host).requestTimeoutNs / 1_000_000 +
            " ms, " + request.name().toLowerCase(java.util.Locale.ROOT) + " of vm " + vmId + " refused");
    }

    /** @return whether the caller is a host's agent (a listener callback), which must not wait for an inbox. */
    boolean onAnAgentThread()
    {
        for (int h = 0, n = view.hosts; h < n; h++)
        {
            if (hosts[h] != null && hosts[h].isAgentThread())
            {
                return true;
            }
        }
        return false;
    }

    void checkHost(final int host)
    {
        final int n = view.hosts;
        if (host < 0 || host >= n)
        {
            throw new IllegalArgumentException("no host " + host + " (hosts 0-" + (n - 1) + ")");
        }
    }
}
