package io.vmsched.metrics;

import oshi.SystemInfo;
import oshi.software.os.OSProcess;
import oshi.software.os.OperatingSystem;

import java.util.HashMap;
import java.util.Map;

/**
 * Reads OS processes' usage through OSHI: CPU time, resident memory, storage bytes read and
 * written. A process that has exited (or become a zombie) reads as not alive; nothing throws.
 * <p>
 * <b>Note:</b> Not threadsafe: one sampler per agent.
 */
public final class ProcessSampler
{
    private final OperatingSystem os;
    private final Map<Integer, OSProcess> processes = new HashMap<>();

    /** Creates OSHI's view of the OS (a few hundred ms the first time in a JVM). */
    public ProcessSampler()
    {
        os = new SystemInfo().getOperatingSystem();
    }

    /**
     * Read one process.
     *
     * @param pid  the process id.
     * @param into filled with its figures; {@code alive} false if it is gone.
     * @return whether it is alive.
     */
    public boolean sample(final int pid, final ProcessSample into)
    {
        into.pid = pid;
        OSProcess process = processes.get(pid);
        boolean alive;
        if (process == null)
        {
            process = os.getProcess(pid);
            alive = process != null;
            if (alive)
            {
                processes.put(pid, process);
            }
        }
        else
        {
            alive = process.updateAttributes();
        }
        if (alive)
        {
            final OSProcess.State state = process.getState();
            alive = state != OSProcess.State.INVALID && state != OSProcess.State.ZOMBIE;
        }
        into.alive = alive;
        if (!alive)
        {
            processes.remove(pid);
            into.cpuNanos = 0;
            into.residentBytes = 0;
            into.bytesRead = 0;
            into.bytesWritten = 0;
            return false;
        }
        into.cpuNanos = (process.getUserTime() + process.getKernelTime()) * 1_000_000L;
        into.residentBytes = process.getResidentMemory();
        into.bytesRead = process.getBytesRead();
        into.bytesWritten = process.getBytesWritten();
        return true;
    }
}
