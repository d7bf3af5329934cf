package idex.uid2;

import com.uid2.client.IdentityMapClient;
import com.uid2.client.IdentityMapInput;
import com.uid2.client.IdentityMapResponse;
import com.uid2.client.IdentityMapV3Client;
import com.uid2.client.IdentityMapV3Input;
import com.uid2.client.IdentityMapV3Response;
import idex.Main;
import idex.support.TestVectors;
import idex.support.TestServer;
import idex.uid2.clients.IssuedClientKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The official UID2 Java SDK (com.uid2:uid2-client 4.8.0), unchanged, against idex loaded with the reference
 * operator's test salts: it must get exactly the advertising ids the reference gives.
 */
class OfficialSdkTest {

    @TempDir
    static Path dataDir;
    static TestServer server;
    static IssuedClientKey key;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, 16);
        assertThat(Main.run("uid2", "salts", "import", TestVectors.uid2TestSalts().toString(),
                "--data-dir", dataDir.toString())).isZero();
        server.refreshNow();
        key = server.createMapperKey();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void identityMapClientGetsTheReferenceAdvertisingIds() {
        IdentityMapClient client = new IdentityMapClient(server.url(""), key.key(), key.secret());
        IdentityMapResponse response = client.generateIdentityMap(
                IdentityMapInput.fromEmails(List.of("user@example.com", "Jane.Doe+x@Gmail.com", "optout@example.com")));

        assertThat(response.isSuccess()).isTrue();
        assertThat(response.getMappedIdentities().get("user@example.com").getRawUid())
                .isEqualTo("ICALImfE94kkoCsBn79kNqDk485MeuvZ3bHUdsmPcKIf");
        assertThat(response.getMappedIdentities().get("user@example.com").getBucketId()).isEqualTo("bv3WM92zaA");
        assertThat(response.getMappedIdentities().get("Jane.Doe+x@Gmail.com").getRawUid())
                .isEqualTo("Kg0tfFnzQyU0GU1I0pCpDYMO/RdPaplrPnmdveS9mDk=");
        assertThat(response.getMappedIdentities().get("Jane.Doe+x@Gmail.com").getBucketId()).isEqualTo("b1aZVGl7aB");
        assertThat(response.getUnmappedIdentities().get("optout@example.com").getReason()).isEqualTo("optout");
    }

    @Test
    void identityMapV3ClientGetsCurrentUidsAndRefreshTimes() {
        IdentityMapV3Client client = new IdentityMapV3Client(server.url(""), key.key(), key.secret());
        IdentityMapV3Response response = client.generateIdentityMap(IdentityMapV3Input.fromEmails(
                List.of("user@example.com", "Jane.Doe+x@Gmail.com", "optout@example.com")));

        assertThat(response.isSuccess()).isTrue();
        IdentityMapV3Response.MappedIdentity user = response.getMappedIdentities().get("user@example.com");
        assertThat(user.getCurrentRawUid()).isEqualTo("ICALImfE94kkoCsBn79kNqDk485MeuvZ3bHUdsmPcKIf");
        // Bucket 1000002's refresh_from in the snapshot, in seconds.
        assertThat(user.getRefreshFrom().getEpochSecond()).isEqualTo(1806364800L);
        IdentityMapV3Response.MappedIdentity jane = response.getMappedIdentities().get("Jane.Doe+x@Gmail.com");
        assertThat(jane.getCurrentRawUid()).isEqualTo("Kg0tfFnzQyU0GU1I0pCpDYMO/RdPaplrPnmdveS9mDk=");
        assertThat(response.getUnmappedIdentities().get("optout@example.com").getRawReason()).isEqualTo("optout");
    }
}
