package io.vmsched.vm;

import java.util.Objects;

/**
 * A live migration's progress, from the hypervisor's own figures (QEMU's {@code query-migrate}). Immutable.
 *
 * @param state            where it is.
 * @param status           the hypervisor's own word for it (QEMU: {@code none}, {@code setup}, {@code active},
 *                         {@code device}, {@code completed}, ...), empty if it gave none.
 * @param totalTimeMs      the time since it started, or its whole time once {@link MigrationState#COMPLETED},
 *                         milliseconds; -1 if not reported.
 * @param downtimeMs       how long the VM was paused for the last pass, milliseconds; -1 until completed.
 * @param transferredBytes the bytes sent so far; -1 if not reported.
 * @param error            why it failed, empty if it did not or the hypervisor did not say.
 */
public record MigrationStatus(MigrationState state, String status, long totalTimeMs, long downtimeMs,
    long transferredBytes, String error)
{
    /** A VM on which no migration was started. */
    public static final MigrationStatus NONE = new MigrationStatus(MigrationState.NONE, "", -1, -1, -1, "");

    /** @throws NullPointerException if the state is null; a null status or error is taken as empty. */
    public MigrationStatus
    {
        Objects.requireNonNull(state, "state");
        status = null == status ? "" : status;
        error = null == error ? "" : error;
    }
}
