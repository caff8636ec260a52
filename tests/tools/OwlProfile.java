// The OWL API's OWL 2 DL profile checker (Debian libowlapi-java 5.1), for the tests.
//
// Usage: java -cp <owlapi + deps>:. OwlProfile FILE...   (compiled by tests/tools/owl-profile)
// Each FILE (Turtle or N-Triples) is parsed as one ontology and checked against the OWL 2 DL
// profile; every violation is printed as "FILE<TAB>ViolationKind<TAB>text". Exit status 0:
// every file is in OWL 2 DL; 1: some violation; 2: a file could not be parsed.
import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.formats.TurtleDocumentFormat;
import org.semanticweb.owlapi.io.FileDocumentSource;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public class OwlProfile {
    public static void main(String[] args) {
        int status = 0;
        for (String name : args) {
            OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
            OWLOntology ontology;
            try {
                // the Turtle parser reads N-Triples too; naming the format skips guessing
                ontology = manager.loadOntologyFromOntologyDocument(
                        new FileDocumentSource(new File(name), new TurtleDocumentFormat()));
            } catch (Exception e) {
                System.out.println(name + "\tParseError\t" + e.getMessage().replace('\n', ' '));
                status = 2;
                continue;
            }
            OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
            for (OWLProfileViolation v : report.getViolations()) {
                System.out.println(name + "\t" + v.getClass().getSimpleName() + "\t"
                                   + v.toString().replace('\n', ' '));
            }
            if (!report.isInProfile() && status == 0) {
                status = 1;
            }
        }
        System.exit(status);
    }
}
