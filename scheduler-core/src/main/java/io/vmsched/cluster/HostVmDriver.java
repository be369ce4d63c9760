package io.vmsched.cluster;

import io.vmsched.vm.VmDriver;
import io.vmsched.vm.VmDriverException;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A host's hypervisor driver ({@link HostConfig#vmDriver}) as its agent uses it: each call runs on a thread of the
 * driver's own (a driver may block: a QMP round trip, a process start, a whole live migration's polling), and what
 * follows it runs back on the agent, in its duty cycle ({@link #poll}), woken when it is due. The agent never waits
 * for a hypervisor.
 * <p>
 * Threading: {@link #submit} and {@link #poll} are the agent's; the work runs on the driver's threads (one per call
 * in flight, so a long migration does not hold up another VM's).
 */
final class HostVmDriver implements AutoCloseable
{
    /** A call of the driver, on a driver thread. */
    @FunctionalInterface
    interface Work<T>
    {
        T run(VmDriver driver) throws VmDriverException;
    }

    /** What follows a call, on the agent: its result, or the one-line reason it failed (then the result is null). */
    @FunctionalInterface
    interface Then<T>
    {
        void accept(T result, String failure);
    }

    final VmDriver driver;
    private final ExecutorService threads;
    private final ConcurrentLinkedQueue<Runnable> done = new ConcurrentLinkedQueue<>();
    private final Runnable wake;
    private volatile boolean closed;

    HostVmDriver(final int hostId, final VmDriver driver, final Runnable wake)
    {
        this.driver = driver;
        this.wake = wake;
        this.threads = Executors.newCachedThreadPool(task ->
        {
            final Thread thread = new Thread(() ->
            {
                io.vmsched.dispatch.Idle.resetTimerSlack(); // the agent's is 1 µs; a hypervisor it starts inherits it
                task.run();
            }, "vmsched-vm-driver-" + hostId);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** @return the kind of VM this driver moves, as journaled: {@link HostRuntime#DRIVEN_KIND_PREFIX} + its kind. */
    String vmKind()
    {
        return HostRuntime.DRIVEN_KIND_PREFIX + driver.kind();
    }

    /** Agent: run a call on a driver thread, then {@code then} on the agent. A closed host drops what follows. */
    <T> void submit(final Work<T> work, final Then<T> then)
    {
        if (closed)
        {
            return;
        }
        threads.execute(() ->
        {
            T result = null;
            String failure = null;
            try
            {
                result = work.run(driver);
            }
            catch (final VmDriverException | RuntimeException ex)
            {
                failure = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            }
            final T r = result;
            final String f = failure;
            done.add(() -> then.accept(r, f));
            wake.run();
        });
    }

    /** Agent: run what follows the calls that ended. @return how many ran. */
    int poll()
    {
        int count = 0;
        Runnable next;
        while ((next = done.poll()) != null)
        {
            next.run();
            count++;
        }
        return count;
    }

    /** The host closes: calls in flight are interrupted (their VMs keep running), the driver lets go of its VMs. */
    @Override
    public void close()
    {
        closed = true;
        threads.shutdownNow();
        try
        {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        driver.close();
    }
}
