# ruff: noqa: E501
"""Tool bank, work and technical domains: one DSL line per tool (grammar in needle_router.data.spec)."""

from __future__ import annotations

DOMAINS: dict[str, str] = {
    "files": """
upload_file~cloud | Upload a local file to cloud storage. | upload {file};back up {file};put {file} in the cloud | file:str@file; folder?:str@folder "to {v}/into {v}"
upload_to_drive~cloud | Upload a file to Google Drive. | upload {file};save {file} to drive;put {file} on google drive | file:str@file; folder?:str@folder "to {v}/into {v}"
share_file | Share a file with someone by email. | share {file} with {email};send {email} access to {file};give {email} access to {file} | file:str@file; email:email; permission?:enum(view|comment|edit!own|delete_all)=view "with {v} access/as {v}"
delete_file | Delete a file. | delete {file};remove {file};trash {file} | file:str@file; permanent?:bool "permanently|to the trash"
rename_file | Rename a file. | rename {file} to {new_name};change the name of {file} to {new_name} | file:str@file; new_name:str@file
move_file | Move a file to a folder. | move {file} to {folder};put {file} in {folder};file {file} under {folder} | file:str@file; folder:str@folder
search_files | Search files by name or content. | find {query} in my files;search my files for {query};look for files about {query} | query:str@word; file_type?:enum(pdf|docx|xlsx|image|video|any) "only {v}/of type {v}"
compress_files | Zip a folder. | zip {folder};compress {folder};make an archive of {folder} | folder:str@folder; format?:enum(zip|tar_gz|7z!rar5000|floppy) "as {v}"
convert_document | Convert a document to another format. | convert {file} to {format};export {file} as {format};turn {file} into a {format} | file:str@file; format:enum(pdf|docx|txt|html|markdown|odt!exe|mp3)
get_storage_usage | Show storage usage. | ?how much storage am I using;check my storage;?how full is my drive
restore_file | Restore a deleted file from trash. | restore {file};undelete {file};recover {file} | file:str@file
create_folder | Create a new folder. | create a folder called {name};make a new folder {name};new folder {name} | name:str@word; parent?:str@folder "in {v}/under {v}"
""",
    "devops": """
deploy_service | Deploy a service version to an environment. | deploy {service};ship {service};roll out {service};push {service} | service:str@service; environment:enum(dev|staging|production|canary!moon|localhost_prod) "to {v}"; version?:str@code "version {v}/at {v}"
rollback_service | Roll back a service to its previous release. | roll back {service};revert {service};undo the last deploy of {service} | service:str@service; environment:enum(dev|staging|production|canary) "in {v}/on {v}"
scale_service | Scale a service to a number of replicas. | scale {service};set {service} replicas;resize {service} | service:str@service; replicas:int[0..200] "to {v} replicas/to {v} instances/to {v}"
restart_service | Restart a service. | restart {service};bounce {service};reboot {service} | service:str@service; environment?:enum(dev|staging|production) "in {v}/on {v}"
get_service_logs | Fetch recent logs of a service. | show logs for {service};get {service} logs;tail the {service} logs | service:str@service; lines?:int[1..5000]=100 "last {v} lines/{v} lines"; level?:enum(debug|info|warn|error) "at {v} level/only {v}"
check_service_health | Health status of a service. | check {service} health;?is {service} up;?how is {service} doing | service:str@service
create_incident | Open an incident. | open an incident for {service};declare an incident;page someone about {service} | service:str@service; severity:enum(sev1|sev2|sev3|sev4!sev0|sev9) "{v}/as {v}/at {v}"; summary?:text@sentence "saying {v}/: {v}"
run_pipeline | Trigger a CI pipeline on a branch. | run CI on {branch};trigger the pipeline for {branch};kick off a build of {branch} | branch:str@branch; repo:str@repo "in {v}/for {v}"
merge_pull_request | Merge a pull request. | merge PR {number};merge pull request {number};land {number} | number:int[1..99999]; repo:str@repo "in {v}/on {v}"; method?:enum(merge|squash|rebase) "with {v}/using {v}"
create_branch | Create a git branch. | create a branch {branch};make a new branch {branch};branch off as {branch} | branch:str@branch; repo:str@repo "in {v}"; from_branch?:enum(main|develop|master|release) "from {v}"
get_cpu_usage | CPU usage of a host. | ?what's the CPU on {host};check cpu usage of {host};show load on {host} | host:str@host; minutes?:int[1..1440] "over the last {v} minutes"
silence_alert | Silence an alert for some minutes. | silence the {alert} alert;mute the alert {alert};snooze {alert} | alert:str@service; minutes:int[5..1440] "for {v} minutes"
rotate_secret | Rotate a secret/credential for a service. | rotate the secrets for {service};rotate credentials of {service};refresh {service}'s keys | service:str@service
create_dns_record | Create a DNS record. | add a DNS record for {hostname};create a {record_type} record for {hostname} | hostname:str@host; record_type:enum(A|AAAA|CNAME|TXT|MX!ZZ|BOGUS) "of type {v}/type {v}"; value:str@host "pointing to {v}/with value {v}"
""",
    "databases": """
run_sql_query | Run a read-only SQL query. | run the query {sql};execute {sql};query the database with {sql} | sql:text@sentence; database?:enum(analytics|prod_replica|warehouse|staging) "on {v}/against {v}"
count_rows | Count rows in a table. | count the rows in {table};?how many rows are in {table};get the row count of {table} | table:str@table; where?:text@sentence "where {v}"
describe_table | Show a table's columns and types. | describe {table};show the schema of {table};?what columns does {table} have | table:str@table
backup_database | Back up a database. | back up the {database} database;take a backup of {database};snapshot {database} | database:enum(analytics|prod|warehouse|staging|users_db); compress?:bool "compressed|uncompressed"
restore_database | Restore a database from a backup date. | restore {database};roll {database} back;restore the {database} database | database:enum(analytics|prod|warehouse|staging|users_db); backup_date:date "from {v}/to the backup from {v}"
export_table | Export a table to a file format. | export {table};dump {table};download {table} | table:str@table; format:enum(csv|json|parquet|sql!xls97|pdf) "as {v}/to {v}"
create_index | Create an index on a column. | index {column} on {table};create an index on {table};add an index to {table} | table:str@table; column:str@word "on {v}/on column {v}"; unique?:bool "as unique|non-unique"
vacuum_table | Vacuum and analyze a table. | vacuum {table};clean up {table};run vacuum on {table} | table:str@table; full?:bool "with full vacuum|lightly"
kill_query | Kill a running query by process id. | kill query {pid};terminate process {pid};stop query {pid} | pid:int[1..99999]
get_slow_queries | List the slowest recent queries. | show the slow queries;?what queries are slow;list slow queries | min_ms?:int[10..600000] "over {v} ms/slower than {v} milliseconds"; limit?:int[1..100] "top {v}"
""",
    "crm": """
create_lead | Create a sales lead. | add {name} as a lead;create a lead for {name};new lead {name} | name:str@person; company:str@company "from {v}/at {v}"; email?:email "with email {v}"
log_call | Log a sales call with a contact. | log a call with {contact};record my call with {contact};note the call with {contact} | contact:str@person; minutes:int[1..300] "of {v} minutes/for {v} minutes"; outcome?:enum(interested|not_interested|follow_up|closed) "outcome {v}/they were {v}"
update_deal_stage | Move a deal to a pipeline stage. | move the {deal} deal;update the {deal} opportunity;advance {deal} | deal:str@company; stage:enum(prospecting|qualified|proposal|negotiation|won|lost!maybe|limbo) "to {v}"
get_pipeline_value | Total pipeline value for a quarter. | ?what's our pipeline;show pipeline value;get the sales forecast | quarter:enum(Q1|Q2|Q3|Q4!Q5|Q0) "for {v}/in {v}"; year?:int[2015..2030] "{v}"
assign_account | Assign an account to a sales rep. | assign {account} to {rep};give {account} to {rep};make {rep} the owner of {account} | account:str@company; rep:str@person
schedule_follow_up | Schedule a follow-up with a contact. | schedule a follow-up with {contact};follow up with {contact};remind me to follow up with {contact} | contact:str@person; date:date "{v}"; channel?:enum(call|email|meeting) "by {v}/via {v}"
search_contacts_crm | Search CRM contacts by name or company. | find {query} in the crm;search contacts for {query};look up {query} in salesforce | query:str@company
add_note_to_account | Add a note to a customer account. | add a note to {account};note on {account};log a note for {account} | account:str@company; note:text@sentence "saying {v}/: {v}"
create_quote | Create a price quote for an account. | create a quote for {account};draft a quote for {account};quote {account} | account:str@company; amount:money "for {v}/of {v}"; discount_percent?:int[0..50] "with a {v}% discount/{v} percent off"
send_invoice | Send an invoice to a client. | invoice {client};send an invoice to {client};bill {client} | client:str@company; amount:money "for {v}"; due?:date "due {v}"
""",
    "hr": """
request_time_off | Request vacation or leave days. | request time off;book vacation;take leave;I need some days off | start:date "from {v}/starting {v}"; days:int[1..30] "for {v} days"; type?:enum(vacation|sick|personal|parental) "as {v} leave/{v}"
get_pto_balance | Check remaining paid time off. | ?how many vacation days do I have;check my PTO;?what's my leave balance
submit_expense | Submit an expense for reimbursement. | submit an expense;expense {amount};file a reimbursement | amount:money "of {v}/for {v}"; category:enum(travel|meals|equipment|software|training|other!yacht|casino) "for {v}/under {v}"; description?:text@sentence "for {v}"
find_employee | Look up an employee in the directory. | find {name} in the directory;look up {name};?who is {name} | name:str@person; department?:str@department "in {v}"
post_job_opening | Post a job opening. | post a job for a {title};open a {title} position;create a job listing for a {title} | title:str@job; department:str@department "in {v}/for {v}"; remote?:bool "remote allowed|on-site only"
schedule_interview | Schedule a job interview. | schedule an interview with {candidate};set up an interview with {candidate};book {candidate} for an interview | candidate:str@person; date:date "{v}"; time:time "at {v}"; interviewer?:str@person "with {v}"
onboard_employee | Start onboarding for a new hire. | onboard {name};start onboarding for {name};set up {name} as a new hire | name:str@person; start_date:date "starting {v}/on {v}"; role:str@job "as {v}/as a {v}"
view_payslip | Show a payslip for a month. | show my payslip;get my pay stub;view my salary slip | month:enum(january|february|march|april|may|june|july|august|september|october|november|december!smarch|thirteenth) "for {v}/from {v}"
submit_timesheet | Submit weekly hours on a project. | log {hours} hours on {project};submit my timesheet;record time on {project} | project:str@project "on {v}/for {v}"; hours:num[0.25..80] "{v} hours"
give_kudos | Send kudos to a colleague. | give kudos to {colleague};thank {colleague} publicly;shout out {colleague} | colleague:str@person; message:text@message "for {v}/saying {v}"
""",
    "education": """
get_assignments | List upcoming assignments for a course. | show my {course} assignments;?what homework do I have;list assignments | course:str@subject "for {v}/in {v}"; days?:int[1..30] "due in the next {v} days"
submit_assignment | Submit a file for an assignment. | submit {file};turn in {file};hand in {file} | file:str@file; course:str@subject "for {v}"
get_grades | Show grades for a course. | show my grades;?what's my grade in {course};check my {course} grade | course:str@subject "in {v}/for {v}"
enroll_course | Enroll in a course. | enroll in {course};sign up for {course};register for {course} | course:str@subject; semester?:enum(fall|spring|summer|winter) "for {v}/in the {v}"
create_flashcards | Create flashcards on a topic. | make flashcards for {topic};create {count} flashcards about {topic};quiz me on {topic} | topic:str@subject; count:int[1..200] "{v} cards/{v} flashcards"
book_tutor | Book a tutoring session. | book a tutor for {subject};find a {subject} tutor;schedule tutoring in {subject} | subject:str@subject; date:date "{v}"; minutes?:int[30..180] "for {v} minutes"
define_word | Define an English word. | define {word};?what does {word} mean;give me the meaning of {word} | word:str@word
practice_language | Start a language practice session. | practice {language};start a {language} lesson;help me learn {language} | language:str@language; level?:enum(beginner|intermediate|advanced) "at {v} level/{v}"; minutes?:int[5..120] "for {v} minutes"
check_attendance | Check attendance record for a student. | check attendance for {student};?was {student} in class;show {student}'s attendance | student:str@person; course?:str@subject "in {v}"
""",
    "math_science": """
calculate | Evaluate a math expression. | calculate {expression};?what's {expression};compute {expression};work out {expression} | expression:str@expression
convert_units | Convert a value between units. | convert {value} {from_unit} to {to_unit};?how many {to_unit} in {value} {from_unit} | value:num[-1000000..1000000]; from_unit:enum(meters|feet|kilometers|miles|kilograms|pounds|liters|gallons|celsius|fahrenheit); to_unit:enum(meters|feet|kilometers|miles|kilograms|pounds|liters|gallons|celsius|fahrenheit)
solve_equation | Solve an equation for a variable. | solve {equation};find the roots of {equation};?what is x if {equation} = 0 | equation:str@expression; variable?:enum(x|y|z|t) "for {v}"
get_element_info | Periodic table facts for an element. | tell me about {element};?what's the atomic number of {element};get element info for {element} | element:str@element
molar_mass | Molar mass of a chemical compound. | ?what's the molar mass of {compound};compute the molar mass of {compound} | compound:str@chemical
compute_statistics | Mean, median and standard deviation of numbers. | compute stats for {numbers};?what's the average of {numbers};get the mean of {numbers} | numbers:list@id
generate_random_number | Random integer in a range. | pick a random number;roll a number;generate a random number | low:int[-1000000..1000000] "between {v}/from {v}"; high:int[-1000000..1000000] "and {v}/to {v}"
prime_factors | Prime factorisation of an integer. | factor {n};?what are the prime factors of {n};factorise {n} | n:int[2..1000000000]
plot_function | Plot a function over a range. | plot {expression};graph {expression};draw {expression} | expression:str@expression; x_min?:num[-1000..1000] "from {v}"; x_max?:num[-1000..1000] "to {v}"
lookup_constant | Value of a physical constant. | ?what's the {constant};look up the {constant};get the value of the {constant} | constant:enum(speed_of_light|planck_constant|gravitational_constant|avogadro_number|boltzmann_constant|electron_mass!unicorn_constant)
""",
    "iot": """
read_sensor | Read a sensor's current value. | read the {sensor} sensor;?what's the {sensor} reading;check {sensor} | sensor:str@device; metric?:enum(temperature|humidity|pressure|co2|motion|light) "for {v}/{v}"
set_irrigation | Water a garden zone for some minutes. | water the {zone};run the sprinklers;irrigate the {zone} | zone:str@plant "for the {v}/in the {v} bed"; minutes:int[1..120] "for {v} minutes"
set_device_firmware | Update a device's firmware channel. | update the firmware on {device};upgrade {device};flash {device} | device:str@device; channel?:enum(stable|beta|nightly) "to {v}/on the {v} channel"
reboot_device | Reboot an IoT device. | reboot {device};restart {device};power cycle {device} | device:str@device
set_motion_sensitivity | Set a motion sensor's sensitivity. | set motion sensitivity;change the sensor sensitivity;make the {sensor} less sensitive | sensor:str@device "on the {v}/for the {v}"; level:int[1..10] "to {v}/to level {v}"
feed_pet | Dispense food from the smart pet feeder. | feed {pet};give {pet} food;dispense food for {pet} | pet:str@pet; grams?:int[5..500] "{v} grams/{v} g"
check_battery | Battery level of a device. | check the battery of {device};?how much battery does {device} have | device:str@device
set_pool_heater | Set pool heater temperature. | heat the pool;set the pool heater;warm the pool | temperature:int[60..104] "to {v} degrees/to {v}"
connect_wifi | Connect a device to a Wi-Fi network. | connect {device} to {network};join {network};put {device} on {network} | device:str@device; network:str@wifi
set_grow_light | Set grow light hours per day. | set the grow light;run the grow lights;turn on the plant lights | hours:int[0..24] "for {v} hours a day/for {v} hours"
""",
    "security": """
view_camera | Show a security camera feed. | show the {camera} camera;pull up the {camera} cam;?who's at the {camera} | camera:enum(front_door|backyard|garage|driveway|nursery|living_room)
reset_password | Send a password reset link for an account. | reset the password for {account};send a reset link to {account};I forgot my password for {account} | account:email
enable_two_factor | Enable two-factor authentication. | turn on two-factor;enable 2FA;set up two-step verification | method:enum(sms|authenticator|security_key|email!carrier_pigeon|fax) "with {v}/using {v}/via {v}"
list_logins | List recent sign-ins to the account. | show recent logins;?who logged into my account;list sign-ins | days?:int[1..90] "for the last {v} days"
revoke_session | Sign out a device session. | sign out {device};log out {device};revoke the session on {device} | device:str@device
scan_for_malware | Scan a path for malware. | scan {path} for malware;run a virus scan on {path};check {path} for viruses | path:str@folder; deep?:bool "with a deep scan|quickly"
block_ip | Block an IP address in the firewall. | block {ip};ban {ip};firewall {ip} | ip:str@code; hours?:int[1..8760] "for {v} hours"
generate_password | Generate a random password. | generate a password;make me a strong password;create a random password | length:int[8..128] "{v} characters long/of {v} characters/with {v} characters"; symbols?:bool=true "with symbols|without symbols"
check_breach | Check whether an email appears in known breaches. | ?has {email} been breached;check {email} for leaks;is {email} in a data breach | email:email
create_guest_code | Create a temporary door code for a guest. | create a door code for {guest};make a guest code for {guest};give {guest} a code | guest:str@first; hours:int[1..336] "valid for {v} hours/for {v} hours"
""",
    "social": """
post_status~post | Post a status update to the social feed. | post {text};share {text};update my status to {text} | text:text@sentence; visibility?:enum(public|friends|only_me) "visible to {v}/as {v}"
create_tweet~post | Publish a short post on the microblog. | post {text};tweet {text};share {text} | text:text@sentence; visibility?:enum(public|friends|only_me) "visible to {v}/as {v}"
follow_user | Follow an account. | follow {username};start following {username};subscribe to {username} | username:str@username
unfollow_user | Unfollow an account. | unfollow {username};stop following {username} | username:str@username
like_post | Like the latest post of an account. | like {username}'s latest post;heart {username}'s post | username:str@username
send_direct_message | Send a direct message to an account. | DM {username};direct message {username};slide into {username}'s DMs | username:str@username; text:text@message "saying {v}/: {v}"
get_trending | Trending topics. | ?what's trending;show trending topics;get trending hashtags | country?:str@country "in {v}"; limit?:int[1..50] "top {v}"
schedule_post | Schedule a post for later. | schedule a post;queue a post saying {text};post {text} later | text:text@sentence "saying {v}"; date:date "{v}"; time:time "at {v}"
upload_photo | Upload a photo with a caption. | upload {file};post the photo {file};share {file} | file:str@file; caption?:text@sentence "with the caption {v}/captioned {v}"; hashtags?:list@hashtag "with {v}"
report_post | Report a post for a reason. | report {username}'s post;flag {username}'s post | username:str@username; reason:enum(spam|harassment|misinformation|violence|other) "as {v}/for {v}"
""",
    "news": """
get_headlines | Top headlines in a category. | get the headlines;?what's in the news;show me the latest news | category?:enum(world|business|technology|sports|science|health|entertainment) "in {v}/about {v}"; country?:str@country "in {v}/from {v}"
search_news | Search news articles on a topic. | search news about {topic};find articles on {topic};?what's the latest on {topic} | topic:str@topic; days?:int[1..30] "from the last {v} days"
summarize_article | Summarize an article by URL. | summarize {url};give me the gist of {url};tldr {url} | url:str@url; sentences?:int[1..10] "in {v} sentences"
save_article | Save an article to read later. | save {url} for later;bookmark {url};read {url} later | url:str@url
subscribe_newsletter | Subscribe an email to a newsletter topic. | subscribe {email} to {topic} news;sign {email} up for the {topic} newsletter | email:email; topic:str@topic
get_briefing | Daily audio news briefing. | play my news briefing;give me the daily briefing;?what happened today | minutes?:int[1..30] "{v} minutes long/in {v} minutes"
""",
    "language": """
translate_text~translate | Translate text into a target language. | translate {text} to {target};?how do you say {text} in {target};say {text} in {target} | text:text@sentence; target:str@language "into {v}/to {v}"
google_translate~translate | Translate text with Google Translate. | translate {text} to {target};?how do you say {text} in {target};put {text} into {target} | text:text@sentence; target:str@language "into {v}/to {v}"
detect_language | Detect the language of a text. | ?what language is {text};detect the language of {text};identify the language of {text} | text:text@sentence
spell_check | Check spelling of a text. | spell check {text};check the spelling of {text};proofread {text} | text:text@sentence
get_synonyms | Synonyms of a word. | ?what's another word for {word};give me synonyms for {word};synonyms of {word} | word:str@word; limit?:int[1..30] "{v} of them/top {v}"
pronounce_word | Speak the pronunciation of a word. | ?how do you pronounce {word};pronounce {word};say {word} out loud | word:str@word; accent?:enum(us|uk|australian|indian) "in a {v} accent"
""",
    "productivity": """
create_project | Create a project. | create a project called {name};start a new project {name};set up project {name} | name:str@project; deadline?:date "due {v}/with a deadline {v}"
assign_task | Assign a task to a teammate. | assign {task} to {assignee};give {task} to {assignee};have {assignee} do {task} | task:text@note; assignee:str@person; due?:date "by {v}/due {v}"
start_meeting | Start an instant video meeting. | start a meeting;open a zoom room;spin up a call | title?:str@title "called {v}/for {v}"; record?:bool "and record it|without recording"
create_document | Create a new document. | create a doc called {title};start a new document {title};new doc {title} | title:str@title; template?:enum(blank|meeting_notes|proposal|report|resume) "from the {v} template/using {v}"
set_status | Set a chat status message. | set my status to {status};change my status;update my slack status to {status} | status:text@sentence; minutes?:int[5..1440] "for {v} minutes"
set_do_not_disturb | Enable do-not-disturb for some minutes. | turn on do not disturb;silence notifications;enable focus mode;mute everything | minutes:int[5..1440] "for {v} minutes/for {v} min"
create_poll | Create a poll with options. | create a poll asking {question};make a poll;start a vote on {question} | question:text@sentence "asking {v}"; options:list@word "with options {v}/between {v}"
share_screen | Share the screen in the current meeting. | share my screen;start screen sharing;present my screen | window?:enum(entire_screen|browser|slides|editor) "the {v}/showing {v}"
summarize_meeting | Summarize the notes of a meeting. | summarize the {title} meeting;?what happened in {title};give me notes from {title} | title:str@title
set_goal | Set a personal goal with a target date. | set a goal to {goal};my goal is to {goal};track a goal to {goal} | goal:text@note; target_date:date "by {v}"
""",
    "entertainment": """
buy_movie_tickets | Buy cinema tickets. | get tickets for {movie};buy {count} tickets to {movie};book {movie} | movie:str@movie; count:int[1..12] "{v} tickets/for {v} people/for {v}"; date:date "{v}"; time?:time "at {v}/the {v} showing"
get_showtimes | Movie showtimes near the user. | ?when is {movie} playing;get showtimes for {movie};find showtimes for {movie} | movie:str@movie; city?:str@city "in {v}/near {v}"
recommend_movie | Recommend a movie by genre. | recommend a {genre} movie;suggest a film;?what should I watch | genre:enum(comedy|drama|horror|action|romance|documentary|animation|thriller|sci_fi) "in {v}/{v}"; max_minutes?:int[60..240] "under {v} minutes"
find_book | Search for a book. | find the book {title};look up {title};search for {title} by {author} | title:str@book; author?:str@author "by {v}"
borrow_ebook | Borrow an ebook from the library. | borrow {title};check out {title} from the library;get {title} from the library | title:str@book; days?:int[7..21] "for {v} days"
buy_concert_tickets | Buy concert tickets for an artist. | get tickets to see {artist};buy {count} tickets for {artist};book the {artist} concert | artist:str@artist; count:int[1..8] "{v} tickets/for {v}"; city?:str@city "in {v}"
find_events | Find local events. | find events;?what's happening in {city};show me events in {city} | city:str@city; date?:date "{v}"; category?:enum(music|comedy|theatre|sports|art|food) "{v}"
play_game | Start a casual game. | play {game};start a game of {game};let's play {game} | game:enum(trivia|chess|sudoku|hangman|twenty_questions|wordle) ; difficulty?:enum(easy|medium|hard) "on {v}/at {v} difficulty"
get_lyrics | Lyrics of a song. | show the lyrics of {song};?what are the words to {song};get lyrics for {song} | song:str@song; artist?:str@artist "by {v}"
""",
    "pets": """
log_pet_meal | Log a pet's meal. | log {pet}'s meal;record that {pet} ate;I fed {pet} | pet:str@pet; grams:int[1..2000] "{v} grams/{v} g"
book_vet | Book a vet appointment for a pet. | book a vet appointment for {pet};take {pet} to the vet;schedule a vet visit for {pet} | pet:str@pet; date:date "{v}"; reason?:str@symptom "for a {v}/because of a {v}"
find_dog_walker | Find a dog walker. | find a dog walker;book a dog walker for {pet};get someone to walk {pet} | pet:str@pet; date:date "{v}"; minutes?:int[15..120] "for {v} minutes"
log_pet_weight | Log a pet's weight. | log {pet}'s weight;{pet} weighs {kg} kg;record {pet}'s weight | pet:str@pet; kg:num[0.1..120] "at {v} kg/{v} kilos"
set_pet_reminder | Pet care reminder (flea treatment, vaccine...). | remind me about {pet}'s {care};set a {care} reminder for {pet} | pet:str@pet; care:enum(flea_treatment|vaccination|deworming|grooming|nail_trim); date:date "{v}"
""",
    "real_estate": """
search_homes | Search homes for sale or rent. | search homes in {city};find apartments in {city};look for a house in {city} | city:str@city; max_price?:int[100..10000000] "under {v}/for less than {v}"; bedrooms?:int[0..10] "with {v} bedrooms/{v} bedroom"; listing?:enum(sale|rent) "for {v}"
estimate_home_value | Estimate a property's value. | ?what's {address} worth;estimate the value of {address};appraise {address} | address:address
calculate_mortgage | Monthly mortgage payment. | calculate my mortgage;?what would my mortgage be;estimate a mortgage payment | principal:int[1000..10000000] "on {v}/for {v}/for a {v} loan"; rate_percent:num[0..25] "at {v}%/at {v} percent"; years:int[5..40] "over {v} years/for {v} years"
schedule_viewing | Schedule a property viewing. | schedule a viewing at {address};book a tour of {address};see {address} | address:address; date:date "{v}"; time?:time "at {v}"
submit_maintenance_request | Submit a maintenance request to the landlord. | report a {issue};submit a maintenance request;tell the landlord about the {issue} | issue:enum(leak|heating|electrical|pest|appliance|lock) "for a {v}/about the {v}"; urgent?:bool "it's urgent|no rush"
pay_rent | Pay rent for a month. | pay rent;pay my rent;send the rent | amount:money "of {v}/{v}"; month?:enum(january|february|march|april|may|june|july|august|september|october|november|december) "for {v}"
""",
}

# Business entities turned into create / get / update / delete / list tools: realistic CRUD
# families where the verb, not the noun, decides the tool.
# entity: (domain, id pool, id param, [(field param spec, ...)])
ENTITIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "contact": ("crm", "id", ('name:str@person "named {v}/for {v}"', 'email?:email "with email {v}"', 'phone?:str@phone "with phone {v}"')),
    "opportunity": ("crm", "id", ('name:str@company "for {v}/named {v}"', 'amount?:money "worth {v}"', 'stage?:enum(prospecting|qualified|proposal|won|lost) "at stage {v}"')),
    "support_ticket": ("crm", "ticket", ('subject:text@sentence "about {v}/titled {v}"', 'priority?:enum(low|normal|high|urgent) "with {v} priority"', 'assignee?:str@person "assigned to {v}"')),
    "employee_record": ("hr", "employee", ('name:str@person "for {v}"', 'department?:str@department "in {v}"', 'title?:str@job "as {v}"')),
    "job_requisition": ("hr", "id", ('title:str@job "for a {v}"', 'headcount?:int[1..50] "for {v} hires"', 'department?:str@department "in {v}"')),
    "course_section": ("education", "code", ('subject:str@subject "for {v}"', 'capacity?:int[1..500] "with {v} seats"', 'room?:str@code "in room {v}"')),
    "student": ("education", "id", ('name:str@person "named {v}/for {v}"', 'grade_level?:int[1..12] "in grade {v}"', 'email?:email "with email {v}"')),
    "webhook": ("devops", "id", ('url:str@url "for {v}/pointing at {v}"', 'event?:enum(push|deploy|incident|alert) "on {v}"')),
    "cron_job": ("devops", "id", ('name:str@service "named {v}/for {v}"', 'schedule?:enum(hourly|daily|weekly|monthly) "running {v}"')),
    "api_key": ("security", "id", ('label:str@word "labelled {v}/named {v}"', 'expires_days?:int[1..365] "expiring in {v} days"')),
    "firewall_rule": ("security", "id", ('port:int[1..65535] "for port {v}/on port {v}"', 'action?:enum(allow|deny) "to {v}"')),
    "dashboard": ("databases", "id", ('title:str@project "called {v}/named {v}"', 'refresh_minutes?:int[1..1440] "refreshing every {v} minutes"')),
    "saved_query": ("databases", "id", ('name:str@word "named {v}/called {v}"', 'table?:str@table "on {v}"')),
    "product_listing": ("shopping", "code", ('title:str@product "for {v}/named {v}"', 'price?:money "at {v}/priced {v}"', 'stock?:int[0..100000] "with {v} in stock"')),
    "discount_code": ("shopping", "code", ('percent:int[1..90] "for {v}% off/of {v} percent"', 'expires?:date "expiring {v}"')),
    "trip": ("travel", "id", ('destination:str@city "to {v}"', 'start?:date "starting {v}"', 'travelers?:int[1..20] "for {v} travelers"')),
    "playlist": ("media", "id", ('name:str@playlist "called {v}/named {v}"', 'public?:bool "as public|as private"')),
    "album_collection": ("media", "id", ('name:str@word "called {v}"', 'genre?:str@genre "of {v}"')),
    "budget_category": ("finance", "id", ('name:str@word "called {v}/named {v}"', 'limit?:money "with a limit of {v}"')),
    "recurring_payment": ("finance", "id", ('payee:str@company "to {v}"', 'amount?:money "of {v}"', 'day_of_month?:int[1..28] "on day {v}"')),
    "habit": ("fitness", "id", ('name:text@note "to {v}/called {v}"', 'times_per_week?:int[1..14] "{v} times a week"')),
    "smart_device": ("iot", "id", ('name:str@device "called {v}/named {v}"', 'room?:str@room "in the {v}"')),
    "automation_rule": ("smart_home", "id", ('name:str@word "called {v}"', 'trigger?:enum(sunrise|sunset|motion|arrival|departure) "on {v}/at {v}"')),
    "medical_record": ("health", "id", ('condition:str@symptom "for {v}/about {v}"', 'date?:date "from {v}"')),
    "vehicle": ("automotive", "plate", ('model:str@car "a {v}/the {v}"', 'year?:int[1980..2026] "from {v}"')),
    "listing_alert": ("real_estate", "id", ('city:str@city "in {v}/for {v}"', 'max_price?:int[1000..5000000] "under {v}"')),
    "team_roster": ("sports", "id", ('team:str@team "for the {v}/for {v}"', 'season?:int[2000..2026] "for the {v} season"')),
    "article_draft": ("news", "id", ('headline:text@sentence "titled {v}/with headline {v}"', 'section?:enum(world|business|tech|sports|culture) "in {v}"')),
}

CRUD: tuple[tuple[str, str, str], ...] = (
    # verb, description template, action templates (';'-separated; {e} = entity words, {id} inline)
    ("create", "Create a new {e}.", "create a new {e};add a {e};make a {e};set up a new {e}"),
    ("get", "Get one {e} by its id.", "get {e} {id};show {e} {id};pull up {e} {id};look up {e} {id}"),
    ("update", "Update fields of an existing {e}.", "update {e} {id};edit {e} {id};change {e} {id};modify {e} {id}"),
    ("delete", "Delete a {e} by its id.", "delete {e} {id};remove {e} {id};get rid of {e} {id};drop {e} {id}"),
    ("list", "List {e}s, newest first.", "list {e}s;show all {e}s;show me the {e}s;?what {e}s do we have"),
)


def crud_lines() -> dict[str, str]:
    """DSL lines for every entity x CRUD verb, grouped by domain."""
    out: dict[str, list[str]] = {}
    for ent, (domain, id_pool, fields) in ENTITIES.items():
        words = ent.replace("_", " ")
        idp = f'{ent}_id:str@{id_pool}'
        optional = [f.replace(":", "?:", 1) if "?:" not in f else f for f in fields]
        for verb, desc, actions in CRUD:
            acts = actions.replace("{e}", words).replace("{id}", "{" + ent + "_id}")
            if verb == "create":
                params = "; ".join(fields)
            elif verb == "get" or verb == "delete":
                params = idp
            elif verb == "update":
                params = "; ".join([idp, *optional])
            else:
                params = 'limit?:int[1..500]=50 "the last {v}/top {v}"'
            out.setdefault(domain, []).append(
                f"{verb}_{ent} | {desc.replace('{e}', words)} | {acts} | {params}"
            )
    return {d: "\n".join(lines) for d, lines in out.items()}
