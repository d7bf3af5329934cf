package idex.uid2;

import org.jdbi.v3.core.Jdbi;

import java.util.Optional;

/**
 * Scope and environment are properties of a deployment, recorded in the store by `serve`, so that admin commands
 * issue keys of the same shape as the server they administer.
 */
public record DeploymentSettings(Uid2Scope scope, IdentityEnvironment environment) {

    public static final DeploymentSettings DEFAULT = new DeploymentSettings(Uid2Scope.UID2, IdentityEnvironment.LOCAL);

    /** Reads the recorded settings; values given explicitly (non-null) win and are recorded. */
    public static DeploymentSettings resolve(Jdbi jdbi, Uid2Scope scope, IdentityEnvironment environment, boolean record) {
        return jdbi.inTransaction(h -> {
            Optional<String> storedScope = h.createQuery("SELECT setting_value FROM idex_setting WHERE setting_name = 'scope'")
                    .mapTo(String.class).findOne();
            Optional<String> storedEnv = h.createQuery("SELECT setting_value FROM idex_setting WHERE setting_name = 'environment'")
                    .mapTo(String.class).findOne();
            Uid2Scope s = scope != null ? scope : storedScope.map(Uid2Scope::parse).orElse(DEFAULT.scope);
            IdentityEnvironment e = environment != null ? environment
                    : storedEnv.map(IdentityEnvironment::parse).orElse(DEFAULT.environment);
            if (record) {
                String merge = "MERGE INTO idex_setting t USING (VALUES (CAST(:n AS VARCHAR(64)), CAST(:v AS VARCHAR(1024))))"
                        + " AS s(n, v) ON t.setting_name = s.n WHEN MATCHED THEN UPDATE SET setting_value = s.v"
                        + " WHEN NOT MATCHED THEN INSERT (setting_name, setting_value) VALUES (s.n, s.v)";
                h.createUpdate(merge).bind("n", "scope").bind("v", s.name()).execute();
                h.createUpdate(merge).bind("n", "environment").bind("v", e.name()).execute();
            }
            return new DeploymentSettings(s, e);
        });
    }
}
