// Names.swift: word lists for synthetic people, companies, jobs and messages.
//
// All names are common given names and surnames combined at random, and all companies,
// schools and products are invented: nothing here is real personal data. About a fifth
// of the given names and surnames are non-ASCII, so that roughly a third of the rows
// carry non-ASCII text, as in real exports.

/// A name as displayed, and an ASCII form used to build URL slugs and e-mail addresses.
struct NameEntry: Sendable, Hashable {
    let display: String
    let ascii: String

    /// `"José|jose"`, or `"Anna"` when the ASCII form is just the lowercased name.
    init(_ spec: String) {
        let parts = spec.split(separator: "|", maxSplits: 1).map(String.init)
        display = parts.first ?? spec
        ascii = parts.count > 1 ? parts[1] : display.lowercased()
    }

    var isASCII: Bool { display.utf8.allSatisfy { $0 < 0x80 } }
}

/// The generator's vocabulary.
enum Vocabulary {
    static let firstNames: [NameEntry] = """
        Anna Ben Chloe Daniel Emma Felix Grace Hannah Isaac Jack Julia Kevin Laura Liam Lucas \
        Maria Mark Mia Michael Nina Oliver Olivia Paul Rachel Ryan Sarah Sophie Thomas Victoria \
        William Zoe Adam Alice Andrew Amelia Chris Claire David Eric Ethan Fiona George Helen \
        Jacob James Jessica John Karen Kate Lisa Matthew Megan Nathan Nicole Patrick Peter \
        Priya Rahul Ravi Anita Arjun Deepa Vikram Sanjay Kavya Rohan Aditi Neha Amit Pooja \
        Wei Li Jun Yan Hui Lei Ming Hiroshi Yuki Haruto Sakura Kenji Min-jun Ji-woo Seo-yeon \
        Ahmed Omar Fatima Layla Youssef Karim Sara Mariam Hassan Nour \
        Carlos Diego Javier Lucia Pablo Sofia Mateo Valentina Alejandro Camila \
        Marco Giulia Luca Francesca Matteo Chiara Hans Lena Jonas Katrin Lukas Anke Tobias \
        Pierre Camille Julien Manon Nicolas Marion Antoine Claire Mathieu Elise \
        Ivan Olga Dmitri Natalia Sergei Tatiana Piotr Agnieszka Tomasz Katarzyna Jan Eva \
        Lars Ingrid Erik Astrid Nils Sven Mehmet Ayse Emre Elif Kwame Ama Chinedu Ngozi \
        José|jose María|maria Zoë|zoe Chloé|chloe Léa|lea Hélène|helene Émilie|emilie \
        François|francois Jérôme|jerome Céline|celine Renée|renee André|andre Inês|ines \
        João|joao Sebastián|sebastian Andrés|andres Martín|martin Lucía|lucia Ramón|ramon \
        Jürgen|jurgen Jörg|jorg Björn|bjorn Søren|soren Åsa|asa Øystein|oystein Mårten|marten \
        Łukasz|lukasz Paweł|pawel Małgorzata|malgorzata Wojciech Zofia Jiří|jiri Tomáš|tomas \
        Ayşe|ayse Gülşen|gulsen Şebnem|sebnem Çağrı|cagri Zoltán|zoltan Ádám|adam István|istvan \
        Nguyễn|nguyen Thảo|thao Phương|phuong 伟|wei 芳|fang 秀英|xiuying 陽翔|haruto 結衣|yui \
        민준|minjun 서연|seoyeon Алексей|aleksei Мария|mariya Дмитрий|dmitry Γιώργος|giorgos \
        Ελένη|eleni Noémie|noemie Maëlle|maelle Anaïs|anais Clément|clement
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { NameEntry(String($0)) }

    static let lastNames: [NameEntry] = """
        Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore \
        Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King \
        Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips \
        Evans Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Cooper \
        Patel Sharma Singh Kumar Gupta Mehta Iyer Reddy Nair Desai Shah Rao Chopra \
        Wang Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Lin Tanaka Suzuki Sato Takahashi \
        Watanabe Kim Lee Park Choi Jung Kang Nguyen Tran Pham \
        Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores \
        Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco \
        Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein \
        Dubois Durand Leroy Moreau Simon Laurent Lefebvre Michel Fontaine Chevalier Rousseau \
        Ivanov Petrov Smirnov Kowalski Nowak Wisniewski Novak Svoboda Jensen Hansen Nielsen \
        Larsen Andersen Johansson Lindberg Berg Haugen Yilmaz Kaya Demir Sahin Okafor Mensah \
        Haddad Khalil Mansour Aziz Farouk Cohen Levi Friedman O'Brien O'Connor D'Angelo \
        Müller|muller Schäfer|schafer Köhler|kohler Krüger|kruger Größer|grosser Jäger|jager \
        Bäcker|backer Gómez|gomez Pérez|perez Fernández|fernandez Sánchez|sanchez Muñoz|munoz \
        Jiménez|jimenez Núñez|nunez Peña|pena Gonçalves|goncalves Conceição|conceicao \
        Lefèvre|lefevre Bérubé|berube Girard Thériault|theriault Hélias|helias Côté|cote \
        Wiśniewska|wisniewska Wójcik|wojcik Kamiński|kaminski Dvořák|dvorak Černý|cerny \
        Nováková|novakova Ødegaard|odegaard Sørensen|sorensen Åberg|aberg Lindqvist Öberg|oberg \
        Yıldız|yildiz Çelik|celik Öztürk|ozturk Şahin|sahin Kovács|kovacs Szabó|szabo Tóth|toth \
        Nguyễn|nguyen Trần|tran Lê|le Phạm|pham 王|wang 李|li 张|zhang 陈|chen 佐藤|sato 鈴木|suzuki \
        김|kim 이|lee Иванов|ivanov Петрова|petrova Смирнов|smirnov Παπαδόπουλος|papadopoulos \
        El-Sayed|el-sayed Al-Amin|al-amin Van_der_Berg|vanderberg De_la_Cruz|delacruz
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map {
            // Multi-word surnames are written with underscores in the list above.
            NameEntry(String($0).replacingAll("_", with: " "))
        }

    /// Syllables for invented company names.
    static let companyStems = [
        "Northwind", "Bluepeak", "Kestrel", "Lumen", "Ironleaf", "Brightwater", "Silverline", "Quanta",
        "Harbor", "Cobalt", "Redwood", "Vantage", "Nimbus", "Helix", "Orbital", "Granite", "Cedar",
        "Summit", "Polaris", "Meridian", "Aster", "Juniper", "Tidal", "Falcon", "Evergreen", "Pioneer",
        "Sable", "Crescent", "Atlas", "Beacon", "Zephyr", "Copperfield", "Larkspur", "Mosaic", "Nova",
        "Opal", "Prism", "Quarry", "Riverbend", "Solstice", "Tessellate", "Umbra", "Verdant", "Windrose",
        "Lumière", "Ærø", "Mühlbach", "Zürichsee", "Señorío", "Québecor", "Håkon", "Øresund", "Café Bleu",
        "Société Horizon", "Groupe Étoile", "Naturaleza", "Blåbär", "Kraków Digital", "東方", "Šumava",
    ]
    static let companySuffixes = [
        "", "", "", " Labs", " Systems", " Analytics", " Consulting", " Group", " Health", " Bank",
        " Technologies", " Software", " Partners", " Capital", " Logistics", " Energy", " Studio",
        " Robotics", " Media", " Foods", " Insurance", " Solutions", " AI", " Networks", " Bio",
        ", Inc.", ", LLC", " GmbH", " S.A.", " SAS", " AB", " Ltd", " & Co.", " Holdings",
    ]
    static let specialEmployers = [
        "Self-employed", "Freelance", "Stealth Startup", "University Hospital of Northwind",
        "Ministry of Digital Affairs", "City of Riverbend", "Université de Lumière",
        "Technische Hochschule Mühlbach", "Open Source Collective",
    ]

    static let seniority = [
        "", "", "", "", "Senior ", "Senior ", "Lead ", "Principal ", "Junior ", "Staff ", "Associate ",
    ]
    static let roles = [
        "Software Engineer", "Data Scientist", "Product Manager", "Designer", "Recruiter",
        "Account Executive", "Marketing Manager", "Consultant", "Financial Analyst", "Project Manager",
        "DevOps Engineer", "Researcher", "Teacher", "Nurse", "Sales Manager", "Engineering Manager",
        "Business Analyst", "Talent Acquisition Partner", "Customer Success Manager", "Architect",
        "iOS Developer", "Backend Engineer", "Data Engineer", "Security Engineer", "UX Researcher",
        "Operations Manager", "HR Business Partner", "Lawyer", "Accountant", "Physician",
        "Ingénieur logiciel", "Chef de projet", "Entwickler", "Geschäftsführer", "Desarrollador",
        "Responsable marketing", "Développeuse", "Projektleiterin", "Analista de datos",
    ]
    static let headOfAreas = [
        "Engineering", "Data", "Product", "Marketing", "Sales", "People", "Design", "Finance",
        "Operations", "Growth", "Security", "Research",
    ]
    static let decoratedTitles = [
        "Founder & CEO", "Co-Founder, CTO", "Founder, Board Member", "CEO, Founder",
        "Partner, Strategy & Operations", "Engineer, Platform Team", "Manager, Data & Analytics",
        "Consultant | Speaker | Author", "Student", "Open to work", "Retired", "PhD Candidate",
        "Software Engineer - Payments", "Director, EMEA Sales", "Chief \"Happiness\" Officer",
        "Product Lead, Mobile (iOS & Android)", "Advisor", "Investor", "Intern",
    ]

    static let schools = [
        "Université de Lumière", "Northwind Institute of Technology", "Riverbend State University",
        "Technische Hochschule Mühlbach", "Escuela Superior de Naturaleza", "Kestrel College",
        "Polaris Business School", "University of Granite Falls", "Instituto Atlas", "Cedar Valley Community College",
    ]
    static let degrees = [
        "Master of Science - MS, Computer Science", "Bachelor of Science - BS, Mathematics",
        "Master of Business Administration - MBA", "Baccalauréat, Sciences", "Diplôme d'ingénieur",
        "Bachelor of Arts - BA, Economics", "Doctor of Philosophy - PhD, Physics",
    ]
    static let skills = [
        "Swift", "iOS Development", "Python", "SQL", "Machine Learning", "Leadership", "Project Management",
        "Data Analysis", "Git", "Docker", "Kubernetes", "Linux", "C++", "Java", "Kotlin", "Go", "Rust",
        "Cryptography", "Public Speaking", "Agile Methodologies", "Scrum", "Team Management", "Product Strategy",
        "User Experience (UX)", "Amazon Web Services (AWS)", "Distributed Systems", "Statistics",
        "Négociation", "Communication", "Mentoring", "Technical Writing", "Backup & Recovery", "Zsh",
        "Continuous Integration and Continuous Delivery (CI/CD)", "Software Architecture", "TypeScript",
        "React.js", "Node.js", "PostgreSQL", "Information Security", "Compilers", "Embedded Systems",
    ]
    static let languages = [
        ("English", "Native or bilingual proficiency"), ("French", "Full professional proficiency"),
        ("German", "Professional working proficiency"), ("Spanish", "Limited working proficiency"),
        ("Italian", "Elementary proficiency"), ("Japanese", "Elementary proficiency"),
        ("Portuguese", "Limited working proficiency"),
    ]
    static let industries = [
        "Software Development", "IT Services and IT Consulting", "Financial Services", "Hospitals and Health Care",
        "Higher Education", "Research Services", "Technology, Information and Internet", "Manufacturing",
    ]
    static let cities = [
        "Lyon, Auvergne-Rhône-Alpes, France", "Berlin, Germany", "San Francisco Bay Area",
        "Greater London, England, United Kingdom", "Zürich, Switzerland", "Montréal, Québec, Canada",
        "Madrid, Community of Madrid, Spain", "Bengaluru, Karnataka, India", "Tokyo, Japan",
        "Kraków, Małopolskie, Poland", "Remote", "New York City Metropolitan Area", "Singapore",
    ]

    static let interests = [
        "Cloud computing", "Open source", "Personal finance", "Cycling", "Photography", "Data privacy",
        "Artificial intelligence", "Electric vehicles", "Coffee", "Climate tech", "Startups", "Hiking",
        "Mobile apps", "Cybersecurity", "Remote work", "Jazz", "Board games", "Running",
    ]

    // MARK: Messages

    static let greetings = ["Hi", "Hello", "Hey", "Bonjour", "Hola", "Hallo", "Dear", "Hi there,", "Good morning"]
    static let shortReplies = [
        "Thanks!", "Thank you!", "Sounds good 👍", "Sure", "Great, thanks", "Perfect.", "Will do.",
        "Congrats!! 🎉", "Merci !", "¡Gracias!", "Danke dir!", "Ok", "Haha yes", "See you then",
        "Thanks for connecting!", "Happy to help.", "Let me check and get back to you.", "👍",
        "Talk soon", "Of course!", "No worries", "Absolutely", "That works for me.",
        "Just sent it over.", "Great to hear from you!", "Yes, Tuesday works.",
    ]
    static let sentences = [
        "Thanks for connecting, great to meet you at the meetup last week.",
        "Congratulations on the new role, well deserved!",
        "Happy work anniversary!",
        "Do you have 20 minutes next week for a quick call?",
        "I saw your post about backups and encryption, really interesting.",
        "We're hiring for a senior engineer in our platform team, would you be open to a chat?",
        "Could you share the slides from your talk?",
        "Let me know when you're back in town, coffee is on me.",
        "I'm putting together a panel on data portability and thought of you.",
        "Would you be willing to write a short recommendation?",
        "The release went out this morning, no incidents so far.",
        "Are you still working on that open-source project?",
        "I'll be in Lyon on the 12th, are you around?",
        "Sorry for the late reply, it's been a busy month.",
        "Here is the link to the doc we discussed.",
        "I'd love to hear your thoughts on the proposal.",
        "Thanks again for the intro, we're meeting on Friday.",
        "Quick question about the migration: did you keep the old schema?",
        "Merci pour ton message, on se voit la semaine prochaine ?",
        "¿Tienes tiempo para una llamada el jueves?",
        "Vielen Dank für die Einladung, ich bin gerne dabei.",
        "No pressure at all, just thought it might interest you.",
        "We moved the meeting to 3pm CET, same link.",
        "Just following up on my previous message.",
        "I think the numbers look right, but the Q3 column is off by one.",
        "Let's sync after the holidays.",
    ]
    static let recruiterSubjects = [
        "Exciting opportunity at a fast-growing startup", "Senior iOS Engineer role", "Quick question",
        "Your profile caught my attention", "Staff Engineer, Storage (remote)", "Opportunité CDI à Lyon",
        "Invitation: Data Engineering roundtable", "Following up",
    ]
    static let recruiterParagraphs = [
        "I came across your profile and was impressed by your experience with distributed systems and security.",
        "We are a Series B company building privacy-first infrastructure for personal data, with a fully remote team across Europe.",
        "The role involves designing the storage layer, mentoring two engineers and working closely with product.",
        "Compensation is competitive (base + equity) and we offer a generous learning budget &amp; flexible hours.",
        "Would you be open to a 15-minute call this week or next? Happy to work around your schedule.",
        "If the timing isn't right, I'd still love to stay in touch for the future.",
        "Our stack is Swift on the server, Postgres and a lot of Rust in the data path.",
        "Best regards,",
    ]
    static let groupTitles = [
        "Meetup organisers", "Project Falcon", "Alumni 2012", "Hackathon team", "Book club", "Reading group: systems papers",
    ]

    // MARK: Other files

    static let learningTitles = [
        "Swift Concurrency Essential Training", "Learning SQL Programming", "Introduction to Cryptography",
        "Leading Without Formal Authority", "Data Visualization for Data Analysis", "Docker Foundations",
        "Git Essential Training", "Machine Learning Foundations: Statistics", "Time Management Fundamentals",
        "Writing a Tech Resume", "Kubernetes: Your First Project", "Negotiation Skills",
    ]
    static let eventNames = [
        "Swift Meetup Lyon", "Data Portability Summit", "Northwind Tech Talks: Backups at Scale",
        "Women in Engineering Breakfast", "Open Source Saturday", "Privacy Engineering Day", "Career Fair 2025",
    ]
    static let screeningQuestions = [
        ("How many years of work experience do you have with Swift?", "8"),
        ("How many years of work experience do you have with Python?", "6"),
        ("Are you comfortable commuting to this job's location?", "Yes"),
        ("Will you now or in the future require sponsorship for employment visa status?", "No"),
        ("What is your desired salary?", "95000"),
        ("Have you completed the following level of education: Master's Degree?", "Yes"),
        ("Are you legally authorized to work in the European Union?", "Yes"),
        ("How did you hear about this position?", "LinkedIn, a former colleague"),
    ]
    static let certificationNames = [
        ("AWS Certified Solutions Architect – Associate", "Amazon Web Services (AWS)"),
        ("Certified Kubernetes Administrator (CKA)", "The Linux Foundation"),
        ("Professional Scrum Master I", "Scrum.org"), ("Google Data Analytics", "Coursera"),
        ("Certified Information Systems Security Professional (CISSP)", "ISC2"),
    ]
}
