package io.vmsched.aeron.node;

import io.vmsched.aeron.registry.RegistryClient;
import io.vmsched.aeron.registry.RegistryException;
import io.vmsched.aeron.registry.RegistryStatus;
import io.vmsched.cluster.OwnerRegistry;
import io.vmsched.handoff.HostMessages;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A node's {@link OwnerRegistry} over the Aeron Cluster registry: one thread owns the
 * {@link RegistryClient} (which is single-threaded), runs the host's requests in arrival order and
 * writes each answer into the host's inbox; between requests it keeps the session alive and runs the
 * node's periodic duties (its load report, the directory).
 * <p>
 * Host ids are node ids - 1 (the registry numbers nodes from 1).
 * <p>
 * Answers are definite: a command the registry did not answer in time (the leader changing, the
 * registry unreachable) is tried again, with the client's own resolution of unknown outcomes, until it
 * is answered or the node closes; meanwhile what waits on it stays stopped.
 * <p>
 * Threading: {@code request*} from the host's agent (never blocks: a full queue says false); {@link #owner},
 * {@link #reclaim} and {@link #call} from any thread (they block until the registry thread ran them).
 */
public final class RegistryOwners implements OwnerRegistry
{
    private static final long RETRY_PAUSE_MS = 200;

    private final RegistryClient client;
    private final BlockingQueue<Runnable> queue = new ArrayBlockingQueue<>(4096);
    private final Consumer<String> log;
    private final Runnable duties;
    private final Thread thread;
    private final UnsafeBuffer answerBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(HostMessages.OwnerAnswer.LENGTH));
    private final HostMessages.OwnerAnswer answer = new HostMessages.OwnerAnswer();
    private volatile RingBuffer inbox;
    private volatile boolean running = true;
    private volatile long retries;

    /**
     * @param client a registered client, handed over: from now on only this object's thread uses it.
     * @param duties run between requests, on the registry thread (a load report, the directory); may be null.
     * @param log    one line per retried command.
     */
    public RegistryOwners(final RegistryClient client, final Runnable duties, final Consumer<String> log)
    {
        this.client = client;
        this.duties = duties;
        this.log = log;
        answer.wrap(answerBuffer, 0);
        this.thread = new Thread(this::run, "vmsched-registry-node-" + client.nodeId());
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** @param nodeId a registry node id. @return its host id. */
    public static int hostOf(final int nodeId)
    {
        return nodeId - 1;
    }

    /** @param hostId a host id. @return its registry node id. */
    public static int nodeOf(final int hostId)
    {
        return hostId + 1;
    }

    /** @return commands that had to be tried again (no answer in time). */
    public long retries()
    {
        return retries;
    }

    @Override
    public void attach(final int hostId, final RingBuffer inbox)
    {
        if (nodeOf(hostId) != client.nodeId())
        {
            throw new IllegalArgumentException("host " + hostId + " is not this node's (node " + client.nodeId() + ")");
        }
        this.inbox = inbox;
    }

    @Override
    public boolean requestAdmit(final long vmId)
    {
        return queue.offer(() ->
        {
            final RegistryClient.Ownership entry = untilAnswered("admit of vm " + vmId, () -> client.admit(vmId));
            if (entry != null)
            {
                answer(ADMIT, RegistryStatus.OK == entry.status(), vmId, 0, entry);
            }
        });
    }

    @Override
    public boolean requestMove(final long vmId, final int fromHost, final long migrationId, final long tenureFence)
    {
        return queue.offer(() ->
        {
            final RegistryClient.Ownership entry = untilAnswered("move of vm " + vmId,
                () -> client.move(vmId, nodeOf(fromHost), migrationId, tenureFence));
            if (entry != null)
            {
                answer(MOVE, RegistryStatus.OK == entry.status(), vmId, migrationId, entry);
            }
        });
    }

    @Override
    public boolean requestReclaim(final long vmId, final long migrationId)
    {
        return queue.offer(() ->
        {
            final RegistryClient.Ownership entry = untilAnswered("reclaim of vm " + vmId,
                () -> client.reclaim(vmId, migrationId));
            if (entry != null)
            {
                answer(RECLAIM, RegistryStatus.OK == entry.status(), vmId, migrationId, entry);
            }
        });
    }

    @Override
    public boolean requestRelease(final long vmId)
    {
        return queue.offer(() -> untilAnswered("release of vm " + vmId, () -> client.release(vmId)));
    }

    @Override
    public Owner owner(final long vmId)
    {
        return owner(call(() -> client.query(vmId)));
    }

    @Override
    public Owner reclaim(final long vmId, final long migrationId)
    {
        return owner(call(() -> client.reclaim(vmId, migrationId)));
    }

    private static Owner owner(final RegistryClient.Ownership entry)
    {
        return RegistryStatus.ABSENT == entry.status() ? new Owner(-1, 0) :
            new Owner(hostOf(entry.owner()), entry.migrationId());
    }

    /**
     * Run a call on the registry thread and wait for it (a command the registry does not answer in time
     * is tried again until it is, or the node closes).
     *
     * @param call the call, made with this node's client.
     * @param <T>  its result.
     * @return its result.
     * @throws IllegalStateException if the node closed first.
     */
    public <T> T call(final java.util.function.Supplier<T> call)
    {
        final CompletableFuture<T> result = new CompletableFuture<>();
        try
        {
            queue.put(() ->
            {
                final T value;
                try
                {
                    value = untilAnswered("call", call);
                }
                catch (final RuntimeException ex)
                {
                    result.completeExceptionally(ex); // refused: the caller's to report
                    return;
                }
                if (value == null)
                {
                    result.completeExceptionally(new IllegalStateException("the node closed before the registry answered"));
                }
                else
                {
                    result.complete(value);
                }
            });
            return result.get();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the registry", ex);
        }
        catch (final ExecutionException ex)
        {
            throw ex.getCause() instanceof RuntimeException ? (RuntimeException)ex.getCause() :
                new IllegalStateException(ex.getCause());
        }
    }

    private <T> T untilAnswered(final String what, final java.util.function.Supplier<T> call)
    {
        while (running)
        {
            try
            {
                return call.get();
            }
            catch (final RegistryException ex)
            {
                if (null != ex.status())
                {
                    throw ex; // refused, not unanswered: the caller's mistake
                }
                retries++;
                log.accept("registry: " + what + " not answered (" + ex.getMessage() + "); trying again");
                sleepMs(RETRY_PAUSE_MS);
            }
        }
        return null;
    }

    private void answer(final int request, final boolean applied, final long vmId, final long migrationId,
        final RegistryClient.Ownership entry)
    {
        final int owner = RegistryStatus.RULE == entry.status() ? REFUSED_BY_RULE :
            RegistryStatus.ABSENT == entry.status() ? -1 : hostOf(entry.owner());
        if (RegistryStatus.RULE == entry.status())
        {
            log.accept("registry: " + (request == ADMIT ? "admission" : "move") + " of vm " + entry.vmId() +
                " refused: it would break hard rule #" + entry.rule() + " of the registry's placement here");
        }
        answer.set(request, applied, vmId, migrationId, owner, entry.migrationId());
        final RingBuffer target = inbox;
        while (running && target != null && !target.write(HostMessages.OWNER_ANSWER, answerBuffer, 0, HostMessages.OwnerAnswer.LENGTH))
        {
            sleepMs(1); // the agent drains its inbox every duty cycle
        }
    }

    private void run()
    {
        long nextDutyNs = System.nanoTime();
        while (running)
        {
            try
            {
                final Runnable task = queue.poll(1, TimeUnit.MILLISECONDS);
                if (task != null)
                {
                    task.run();
                }
                else
                {
                    client.poll(); // keep-alives, NODE_DOWN events
                }
                final long now = System.nanoTime();
                if (duties != null && now - nextDutyNs >= 0)
                {
                    nextDutyNs = now + TimeUnit.MILLISECONDS.toNanos(100);
                    duties.run();
                }
            }
            catch (final InterruptedException ex)
            {
                return;
            }
            catch (final RuntimeException ex)
            {
                log.accept("registry: " + ex.getMessage());
            }
        }
    }

    private static void sleepMs(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close()
    {
        running = false;
        thread.interrupt();
        try
        {
            thread.join(5_000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        client.close();
    }
}
