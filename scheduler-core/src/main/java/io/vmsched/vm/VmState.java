package io.vmsched.vm;

import java.util.Objects;

/**
 * An external VM's run state, as its hypervisor reports it (QEMU's {@code query-status}). Immutable.
 *
 * @param kind   what vmsched makes of it.
 * @param status the hypervisor's own word for it (QEMU: {@code running}, {@code paused}, {@code inmigrate},
 *               {@code postmigrate}, {@code prelaunch}, {@code finish-migrate}, ...); for {@link Kind#GONE}, what
 *               is gone, in words.
 */
public record VmState(Kind kind, String status)
{
    /** @throws NullPointerException if an argument is null. */
    public VmState
    {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(status, "status");
    }

    /**
     * @param why what is gone, in words.
     * @return a {@link Kind#GONE} state.
     */
    public static VmState gone(final String why)
    {
        return new VmState(Kind.GONE, why);
    }

    /** What vmsched makes of a run state. */
    public enum Kind
    {
        /** The guest runs. */
        RUNNING,
        /** The guest is paused ({@link VmDriver#stop}), and may be resumed. */
        PAUSED,
        /** An incoming copy waiting for, or receiving, a migration; it runs once the migration completes. */
        INMIGRATE,
        /** A source whose migration completed: the target has the VM; this copy is only to be removed. */
        POSTMIGRATE,
        /**
         * The driver can no longer drive it: its process exited, or its control socket is gone or takes no
         * connection (the status says which, and whether the process still runs).
         */
        GONE,
        /** Another state of the hypervisor's (the status names it), e.g. QEMU's {@code prelaunch} or {@code shutdown}. */
        OTHER
    }
}
