package idex.exchange.jobs.translate;

import idex.uid2.DeploymentSettings;
import idex.uid2.IdentityEnvironment;
import idex.uid2.Uid2Scope;
import idex.uid2.map.LiveOptOuts;
import idex.uid2.map.OptOutList;
import idex.uid2.salts.LiveSalts;
import idex.uid2.salts.SaltBuckets;

/**
 * The server's UID2 (or EUID) state that a job maps emails and phones with. A job takes one snapshot for its whole
 * run, so that a salt rotation during a long upload cannot give one file rows from two salt generations.
 */
public record UidSnapshot(Uid2Scope scope, IdentityEnvironment environment, SaltBuckets salts, OptOutList optOuts) {

    /** The salts and opt-outs the server answers /v2/identity/map from right now. */
    public static UidSnapshot current(DeploymentSettings deployment, LiveSalts salts, LiveOptOuts optOuts) {
        return new UidSnapshot(deployment.scope(), deployment.environment(), salts.current(), optOuts.current());
    }
}
