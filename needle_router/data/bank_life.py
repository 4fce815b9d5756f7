# ruff: noqa: E501
"""Tool bank, everyday domains: one DSL line per tool (grammar in needle_router.data.spec)."""

from __future__ import annotations

DOMAINS: dict[str, str] = {
    "smart_home": """
turn_on_lights | Turn on the lights in a room, optionally at a brightness. | turn on the {room} lights;switch on the lights;light up the {room} | room:str@room "in the {v}"; brightness?:int[1..100] "at {v} percent/to {v}% brightness"
turn_off_lights | Turn off the lights in a room. | turn off the {room} lights;switch off the lights;kill the lights | room:str@room "in the {v}"
dim_lights | Set the brightness of the lights in a room. | dim the {room} lights;set the light level;change the brightness | room:str@room "in the {v}"; level:int[0..100] "to {v} percent/to {v}%"
set_light_color | Change the color of smart bulbs in a room. | make the {room} lights {color};change the light color;set the bulbs | room:str@room "in the {v}"; color:enum(red|orange|yellow|green|blue|purple|pink|warm_white|cool_white!ultraviolet|infrared|plaid) "to {v}"
set_thermostat | Set the target temperature of the thermostat. | set the thermostat;change the heating;adjust the thermostat;make it warmer | temperature:int[50..90] "to {v} degrees/to {v}°"; zone?:str@room "in the {v}"
set_thermostat_mode | Switch the thermostat between heating, cooling, auto and off. | switch the thermostat;put the HVAC;set the climate system | mode:enum(heat|cool|auto|off|eco!turbo|dehumidify_max) "to {v} mode/to {v}"
lock_door | Lock a smart door lock. | lock the {door};lock up;secure the {door} | door:enum(front_door|back_door|garage_door|side_gate|patio_door) "the {v}"
unlock_door | Unlock a smart door lock for a number of minutes. | unlock the {door};open the lock on the {door} | door:enum(front_door|back_door|garage_door|side_gate|patio_door) "the {v}"; minutes?:int[1..60] "for {v} minutes"
start_vacuum | Start the robot vacuum, optionally in one room and with a suction power. | start the vacuum;run the robot vacuum;vacuum the {room};get the roomba going | room?:str@room "in the {v}"; power?:enum(quiet|standard|turbo|max!nuclear) "on {v}/at {v} power"
set_fan_speed | Set the speed of a ceiling or standing fan. | set the fan speed;turn the fan;change the fan | fan:str@device "for the {v}/on the {v}"; speed:int[0..5] "to {v}/to speed {v}/to level {v}"
open_blinds | Open or close the motorised blinds to a percentage. | open the blinds;adjust the blinds;raise the {room} blinds | room:str@room "in the {v}"; position:int[0..100] "to {v} percent/{v}% open"
arm_security_system | Arm the home alarm in away or stay mode. | arm the alarm;turn on the security system;set the alarm | mode:enum(away|stay|night!vacation_max) "in {v} mode/to {v}"; delay_seconds?:int[0..120] "with a {v} second delay"
run_scene | Activate a saved smart home scene by name. | activate the {scene} scene;run my scene;start the {scene} routine | scene:str@word "called {v}/named {v}"
set_water_heater | Set the water heater temperature. | set the water heater;change the boiler temperature | temperature:int[100..140] "to {v} degrees"; vacation_mode?:bool "and enable vacation mode|and disable vacation mode"
check_air_quality | Read the indoor air quality sensor for a room. | check the air quality;?how's the air quality;read the air sensor | room:str@room "in the {v}"
turn_on_device | Turn on a smart plug or appliance by name. | turn on the {device};power up the {device};switch on the {device} | device:str@device
turn_off_device | Turn off a smart plug or appliance by name. | turn off the {device};power down the {device};shut off the {device} | device:str@device
""",
    "media": """
play_song~music | Play a song, optionally by a given artist, on the music app. | play {song};put on {song};start playing {song};queue up {song} | song:str@song; artist?:str@artist "by {v}"; shuffle?:bool "on shuffle|without shuffle"
play_spotify_track~music | Play a track on Spotify. | play {song} on Spotify;put on {song};play the track {song} | song:str@song; artist?:str@artist "by {v}"
play_playlist | Play one of the user's playlists. | play my {playlist} playlist;put on the playlist {playlist};start the {playlist} playlist | playlist:str@playlist; shuffle?:bool=false "on shuffle|in order"
play_album | Play a full album. | play the album {album};put on {album};play the record {album} | album:str@album; artist?:str@artist "by {v}"
play_genre | Play music of a genre. | play some {genre};put on some {genre} music;play {genre} | genre:str@genre
pause_playback | Pause whatever is playing. | pause the music;pause playback;stop the music for a second;hold the music
skip_track | Skip forward one or more tracks. | skip this song;next track;skip ahead | count?:int[1..10]=1 "{v} tracks/by {v} songs"
set_volume | Set the speaker volume from 0 to 100. | set the volume;turn the volume;change the volume | level:int[0..100] "to {v}/to {v} percent/to {v}%"; device?:str@device "on the {v}"
play_podcast | Play the latest episode of a podcast. | play the podcast {podcast};put on {podcast};play the latest {podcast} episode | podcast:str@podcast; speed?:num[0.5..3] "at {v}x speed/at {v}x"
play_movie | Start a movie on the TV. | play the movie {movie};put on {movie};start {movie} | movie:str@movie; subtitles?:enum(off|English|Spanish|French|German!Klingon|Elvish) "with {v} subtitles"
play_show_episode | Play a specific episode of a TV show. | play {show};continue watching {show};put on {show} | show:str@show; season:int[1..30] "season {v}"; episode:int[1..40] "episode {v}"
add_to_queue | Add a song to the play queue. | add {song} to the queue;queue {song};put {song} next | song:str@song; artist?:str@artist "by {v}"
like_song | Save the current or a named song to liked songs. | like {song};save {song} to my likes;heart the song {song} | song:str@song
set_sleep_timer | Stop playback after a number of minutes. | set a sleep timer;stop the music;turn off the music | minutes:int[1..180] "in {v} minutes/after {v} minutes/for {v} minutes"
cast_to_tv | Cast a video URL to a TV. | cast {url} to the TV;stream this to the tv;send {url} to the screen | url:str@url; tv:str@room "in the {v}/to the {v} tv"
search_music | Search the music catalog for songs, albums or artists. | search for {query} in music;find music by {query};look up {query} on the music app | query:str@artist; kind?:enum(song|album|artist|playlist) "as a {v}/only {v}s"
""",
    "messaging": """
send_text_message~msg | Send an SMS text message to a contact. | text {recipient};send a text to {recipient};send an sms to {recipient};shoot {recipient} a text | recipient:str@contact; message:text@message "saying {v}/that says {v}/: {v}/with the message {v}"
send_whatsapp_message~msg | Send a WhatsApp message to a contact. | whatsapp {recipient};send {recipient} a whatsapp;message {recipient} on whatsapp | recipient:str@contact; message:text@message "saying {v}/: {v}/that {v}"
send_slack_message | Post a message to a Slack channel. | post in slack;send a slack message;post to the {channel} channel | channel:str@project "in #{v}/to the {v} channel/in the {v} channel"; message:text@message "saying {v}/: {v}"
send_group_message | Send a message to a named group chat. | message the {group} group;send to the {group} chat;post in the {group} group | group:str@project; message:text@message "saying {v}/: {v}"
read_messages | Read the latest unread messages, optionally from one contact. | read my messages;?any new messages;check my texts;read my texts from {sender} | sender?:str@contact "from {v}"; limit?:int[1..50]=10 "the last {v}/up to {v}"
reply_to_last | Reply to the most recent message. | reply to the last message;answer the last text;reply | message:text@message "saying {v}/with {v}/: {v}"
call_contact | Place a phone call to a contact. | call {contact};phone {contact};ring {contact};dial {contact} | contact:str@contact; speaker?:bool "on speaker|off speaker"
video_call | Start a video call with a contact. | video call {contact};facetime {contact};start a video chat with {contact} | contact:str@contact; app?:enum(facetime|zoom|meet|whatsapp!skype_classic|myspace) "on {v}/using {v}"
call_number | Dial a phone number. | call {number};dial {number};ring {number} | number:str@phone
block_contact | Block a contact from calling or messaging. | block {contact};stop {contact} from messaging me | contact:str@contact
mute_conversation | Mute notifications from a conversation for some hours. | mute my chat with {contact};mute {contact};silence {contact} | contact:str@contact; hours?:int[1..168] "for {v} hours"
schedule_message | Schedule a text message to send later. | schedule a text to {recipient};send {recipient} a message later | recipient:str@contact; message:text@message "saying {v}/: {v}"; date:date "{v}"; time:time "at {v}"
add_contact | Save a new contact with a phone number. | add {name} to my contacts;save a new contact {name};create a contact for {name} | name:str@person; phone:str@phone "with the number {v}/at {v}"; email?:email "and email {v}"
""",
    "email": """
send_email~mail | Send an email. | email {to};send an email to {to};write to {to};shoot an email to {to} | to:email; subject:str@subject_line "with subject {v}/titled {v}/subject {v}"; body?:text@message "saying {v}/with the body {v}"
send_gmail~mail | Send an email from the Gmail account. | email {to};send a gmail to {to};send a mail to {to} | to:email; subject:str@subject_line "with subject {v}/titled {v}"; body?:text@message "saying {v}"
search_email | Search the mailbox. | search my email for {query};find emails about {query};look for mails about {query} | query:str@word; sender?:email "from {v}"; unread_only?:bool "only unread|including read ones"
read_latest_email | Read the newest emails, optionally from a sender. | read my latest email;?what's my newest email;check my inbox | sender?:email "from {v}"; count?:int[1..20] "the last {v}"
forward_email | Forward the last email from a sender to someone. | forward the email from {sender} to {to};forward {sender}'s mail to {to} | sender:email; to:email; note?:text@message "with the note {v}"
archive_emails | Archive emails from a sender or older than some days. | archive emails from {sender};clean up mail from {sender} | sender:email; older_than_days?:int[1..3650] "older than {v} days"
set_out_of_office | Turn on the out-of-office auto reply until a date. | turn on out of office;set my vacation responder;enable the auto reply | until:date "until {v}"; message?:text@message "saying {v}"
unsubscribe | Unsubscribe from a mailing list by sender address. | unsubscribe me from {sender};stop emails from {sender} | sender:email
create_email_filter | Create a mailbox rule moving mail from a sender to a folder. | make a filter for {sender};route emails from {sender};create a mail rule for {sender} | sender:email; folder:str@word "into {v}/to the {v} folder"
""",
    "calendar": """
create_event~event | Create a calendar event. | schedule {title};add {title} to my calendar;put {title} on the calendar;book {title} | title:str@title; date:date "{v}"; time:time "at {v}"; duration_minutes?:int[5..480] "for {v} minutes"; location?:str@place "at {v}"
add_google_calendar_event~event | Add an event to Google Calendar. | schedule {title};add {title} to google calendar;put {title} in my calendar | title:str@title; date:date "{v}"; time:time "at {v}"; duration_minutes?:int[5..480] "for {v} minutes"
list_events | List calendar events on a date. | ?what's on my calendar;show my schedule;list my meetings;?what do I have on | date:date "{v}"
cancel_event | Cancel a calendar event by title. | cancel {title};delete the {title} event;call off {title} | title:str@title; date?:date "{v}"; notify_attendees?:bool "and notify everyone|without telling anyone"
move_event | Reschedule an event to a new date and time. | move {title};reschedule {title};push {title} | title:str@title; new_date:date "to {v}"; new_time?:time "at {v}"
invite_to_event | Invite someone to an existing event. | invite {email} to {title};add {email} to {title} | title:str@title; email:email
find_free_slot | Find a free slot in the calendar of a given length. | find a free slot;?when am I free;find time for a meeting | duration_minutes:int[15..240] "of {v} minutes/for {v} minutes"; date?:date "{v}"
set_working_hours | Set daily working hours shown in the calendar. | set my working hours;change my office hours | start:time "from {v}"; end:time "to {v}/until {v}"
create_recurring_event | Create an event that repeats. | set up a recurring {title};create a repeating event {title};add a weekly {title} | title:str@title; frequency:enum(daily|weekly|biweekly|monthly!hourly_forever|every_second) "repeating {v}/{v}"; time:time "at {v}"
block_focus_time | Block focus time on the calendar. | block focus time;block off my calendar;reserve time to focus | date:date "{v}"; hours:int[1..8] "for {v} hours"
""",
    "reminders": """
create_reminder~remind | Create a reminder at a date and time. | remind me to {text};set a reminder to {text};don't let me forget to {text} | text:text@note; date?:date "{v}"; time?:time "at {v}"
add_todo_reminder~remind | Add a reminder item to the to-do app. | remind me to {text};add a reminder to {text};note to self to {text} | text:text@note; date?:date "{v}"
set_timer | Start a countdown timer. | set a timer;start a timer;time | minutes:int[1..600] "for {v} minutes/for {v} min/of {v} minutes"; label?:str@word "called {v}/labelled {v}"
set_alarm | Set an alarm clock for a time. | set an alarm;wake me up;set my alarm | time:time "for {v}/at {v}"; repeat?:enum(once|daily|weekdays|weekends) "{v}/repeating {v}"
cancel_alarm | Cancel an alarm at a time. | cancel my alarm;turn off the alarm;delete the alarm | time:time "for {v}/at {v}"
create_note | Create a note with a title and text. | take a note;write down {content};jot down {content};make a note | content:text@note "that says {v}/: {v}/saying {v}"; title?:str@word "titled {v}"
add_to_shopping_list | Add items to the shopping list. | add {items} to my shopping list;put {items} on the grocery list;we need {items} | items:list@ingredient
add_task | Add a task to a to-do list with an optional due date and priority. | add a task to {task};put {task} on my to-do list;add {task} to my tasks | task:text@note; due?:date "due {v}"; priority?:enum(low|medium|high|urgent!critical_max|zero) "with {v} priority/{v} priority"
complete_task | Mark a task as done. | mark {task} as done;check off {task};complete {task} | task:text@note
list_reminders | List upcoming reminders. | show my reminders;?what reminders do I have;list my reminders | days?:int[1..30] "for the next {v} days"
stopwatch | Start, stop or reset the stopwatch. | {action} the stopwatch;stopwatch {action} | action:enum(start|stop|reset|lap)
""",
    "navigation": """
get_directions | Get directions between two places. | get directions to {destination};navigate to {destination};take me to {destination};?how do I get to {destination} | destination:str@place; origin?:str@place "from {v}"; mode?:enum(driving|walking|cycling|transit!teleport|helicopter)=driving "by {v}/{v}"
get_travel_time | Estimate the travel time to a place. | ?how long to get to {destination};?how long will it take to reach {destination};estimate travel time to {destination} | destination:str@place; mode?:enum(driving|walking|cycling|transit!teleport|horseback) "by {v}/{v}"
find_nearby | Find places of a kind near the user. | find a {kind} nearby;?where's the nearest {kind};show {kind}s near me | kind:enum(gas_station|coffee_shop|pharmacy|atm|parking|restaurant|ev_charger|hospital|supermarket|hotel); radius_km?:num[0.1..50] "within {v} km/within {v} kilometers"
share_location | Share live location with a contact for some minutes. | share my location with {contact};send {contact} my location;let {contact} see where I am | contact:str@contact; minutes?:int[5..480] "for {v} minutes"
save_place | Save a place to favourites with a label. | save {place} as {label};bookmark {place};add {place} to my places | place:str@street; label:str@word "as {v}/labelled {v}"
avoid_tolls | Toggle toll avoidance for navigation. | avoid tolls;change the toll setting;don't avoid tolls | enabled:bool "on|off"
find_parking | Find parking near a destination. | find parking near {destination};?where can I park near {destination};look for parking at {destination} | destination:str@place; max_price?:num[0..100] "under {v} dollars an hour/for at most {v} per hour"
report_traffic | Report a traffic incident. | report a {incident};flag a {incident} on the road;report an incident | incident:enum(accident|road_closure|police|hazard|traffic_jam) "of type {v}/: {v}"
get_eta | Get the ETA of the current route. | ?when will I arrive;?what's my ETA;how far out am I
""",
    "weather": """
get_weather~weather | Get the current weather for a location. | ?what's the weather in {location};check the weather;?how's the weather in {location};?is it cold in {location} | location:str@city "in {v}/for {v}"; units?:enum(celsius|fahrenheit!kelvin|rankine)=celsius "in {v}"
get_current_conditions~weather | Current weather conditions for a city. | ?what's the weather in {location};?how is it outside in {location};get current conditions | location:str@city "in {v}/for {v}"; units?:enum(celsius|fahrenheit!kelvin) "in {v}"
get_forecast | Get the weather forecast for the next days. | get the forecast;?what's the forecast;?what will the weather be like | location:str@city "in {v}/for {v}"; days:int[1..14] "for the next {v} days/for {v} days"
get_rain_chance | Chance of rain in a location on a date. | ?will it rain;?is it going to rain;?do I need an umbrella | location:str@city "in {v}"; date?:date "{v}"
get_air_quality_index | Get the outdoor air quality index for a city. | get the air quality in {city};?how's the air in {city};check the AQI | city:str@city "in {v}/for {v}"
get_uv_index | Get the UV index for a city. | get the UV index;?how strong is the sun;check UV levels | city:str@city "in {v}/for {v}"
get_sunrise_sunset | Get sunrise and sunset times for a city and date. | ?when is sunset;?when does the sun rise;get sunrise and sunset times | city:str@city "in {v}"; date?:date "{v}"
get_severe_alerts | Get severe weather alerts for a region. | check for weather alerts;?any storm warnings;get severe weather warnings | region:str@city "in {v}/for {v}"
get_pollen_count | Pollen forecast for a city. | check the pollen count;?how bad is the pollen;get allergy levels | city:str@city "in {v}"; type?:enum(tree|grass|weed) "for {v} pollen"
get_tide_times | High and low tide times for a coastal city. | get tide times;?when is high tide;check the tides | city:str@city "in {v}/at {v}"; date?:date "{v}"
""",
    "finance": """
check_balance | Check the balance of a bank account. | check my {account} balance;?how much is in my {account};?what's my balance | account:str@account "on my {v}/in {v}"
transfer_funds | Transfer money between the user's accounts. | transfer {amount};move {amount};send {amount} over | amount:money; from_account:str@account "from my {v}/from {v}"; to_account:str@account "to my {v}/into {v}"
pay_bill | Pay a bill to a payee. | pay the {payee} bill;pay {payee};settle my bill with {payee} | payee:str@company; amount:money "for {v}/of {v}"; date?:date "{v}"
list_transactions | List recent transactions. | show my transactions;list my recent purchases;?what did I spend | account?:str@account "on my {v}"; days:int[1..365] "for the last {v} days/in the past {v} days"
freeze_card | Temporarily freeze a card. | freeze my card;lock my card;block my card ending {last4} | last4:str@id "ending in {v}/ending {v}"; reason?:enum(lost|stolen|suspicious|travel) "because it's {v}/it's {v}"
set_budget | Set a monthly budget for a spending category. | set a budget;limit my spending;cap my {category} budget | category:enum(groceries|dining|transport|entertainment|shopping|utilities|travel!gambling_unlimited) "for {v}/on {v}"; amount:money "to {v}/of {v}"
get_exchange_rate | Get the exchange rate between two currencies. | get the exchange rate;?what's the rate;convert currencies;?how much is a {base} in {quote} | base:enum(USD|EUR|GBP|JPY|CHF|CAD|AUD|INR!XYZ|BTCX) "from {v}/for {v}"; quote:enum(USD|EUR|GBP|JPY|CHF|CAD|AUD|INR!XYZ|ZZZ) "to {v}/in {v}"
request_money | Request money from a contact. | request {amount} from {contact};ask {contact} for {amount};bill {contact} | contact:str@contact; amount:money; note?:text@message "for {v}"
send_money~pay | Send money to a contact. | send {amount} to {contact};pay {contact} {amount};give {contact} {amount} | contact:str@contact; amount:money; note?:text@message "for {v}"
venmo_payment~pay | Pay a contact through Venmo. | send {amount} to {contact};venmo {contact} {amount};pay {contact} {amount} | contact:str@contact; amount:money; note?:text@message "for {v}"
report_fraud | Report a fraudulent transaction. | report a fraudulent charge;dispute a charge;report fraud | merchant:str@merchant "from {v}/at {v}"; amount:money "of {v}/for {v}"
get_credit_score | Get the user's current credit score. | ?what's my credit score;check my credit score;get my credit rating
set_savings_goal | Create a savings goal. | set a savings goal;start saving for {goal};save up for {goal} | goal:str@product; target:money "of {v}/target {v}"; deadline?:date "by {v}"
""",
    "investing": """
get_stock_price | Get the latest price of a stock. | ?what's {ticker} trading at;get the price of {ticker};check {ticker};quote {ticker} | ticker:str@ticker
buy_stock | Place a buy order for shares. | buy {shares} shares of {ticker};purchase {ticker};buy {ticker} | ticker:str@ticker; shares:int[1..10000] "{v} shares"; order_type?:enum(market|limit) "as a {v} order/at {v}"
sell_stock | Place a sell order for shares. | sell {shares} shares of {ticker};sell {ticker};dump {ticker} | ticker:str@ticker; shares:int[1..10000] "{v} shares"; order_type?:enum(market|limit) "as a {v} order"
get_portfolio | Show the portfolio and its performance. | show my portfolio;?how are my investments doing;check my holdings | period?:enum(day|week|month|year|all) "over the past {v}/this {v}"
set_price_alert | Alert when a stock crosses a price. | alert me when {ticker} hits {price};set a price alert for {ticker};notify me if {ticker} reaches {price} | ticker:str@ticker; price:num[0.01..100000] "at {v}/hits {v}"
get_crypto_price | Get the price of a cryptocurrency. | ?what's {coin} at;get the {coin} price;?how much is {coin} worth | coin:str@crypto; currency?:enum(USD|EUR|GBP) "in {v}"
get_company_news | Latest news about a listed company. | get news on {ticker};?what's new with {ticker};any headlines about {ticker} | ticker:str@ticker; limit?:int[1..20] "top {v}/the last {v}"
get_dividends | Dividend history of a stock. | show dividends for {ticker};?what does {ticker} pay in dividends;get the dividend history for {ticker} | ticker:str@ticker; years?:int[1..20] "for the last {v} years"
""",
    "shopping": """
search_products | Search the store catalog. | search for {query};find {query};look for {query};shop for {query} | query:str@product; max_price?:num[1..5000] "under {v} dollars/for less than {v}/under ${v}"; sort?:enum(relevance|price_low|price_high|rating|newest)=relevance "sorted by {v}"
add_to_cart | Add a product to the shopping cart. | add {product} to my cart;put {product} in the cart;I'll take {product} | product:str@product; quantity?:int[1..99] "x{v}/{v} of them/quantity {v}"
remove_from_cart | Remove a product from the cart. | remove {product} from my cart;take {product} out of the cart | product:str@product
checkout | Check out the cart with a payment method. | check out;place my order;complete the purchase | payment:enum(card|paypal|apple_pay|gift_card!iou|barter) "with {v}/using {v}"; express?:bool "with express shipping|with standard shipping"
track_order | Track an order by its order number. | track order {order_id};?where's my order {order_id};check the status of {order_id} | order_id:str@order
return_item | Start a return for an order. | return order {order_id};start a return for {order_id};send back {order_id} | order_id:str@order; reason:enum(damaged|wrong_item|too_small|too_large|not_needed|late) "because it's {v}/reason {v}"
write_review | Write a product review with a star rating. | review {product};rate {product};leave a review for {product} | product:str@product; stars:int[1..5] "{v} stars/with {v} stars"; text?:text@sentence "saying {v}"
add_to_wishlist | Save a product to the wishlist. | add {product} to my wishlist;save {product} for later;wishlist {product} | product:str@product
apply_coupon | Apply a coupon code to the cart. | apply coupon {code};use the code {code};redeem {code} | code:str@code
compare_prices | Compare prices for a product across stores. | compare prices for {product};find the cheapest {product};?where is {product} cheapest | product:str@product
set_delivery_address | Set the delivery address for orders. | ship to {address};change my delivery address;deliver to {address} | address:address
reorder | Reorder a previous order. | reorder {order_id};buy {order_id} again;repeat order {order_id} | order_id:str@order
""",
    "travel": """
search_flights | Search flights between airports on a date. | find flights;search flights;look for a flight;?are there flights | origin:str@airport "from {v}"; destination:str@airport "to {v}"; date:date "{v}"; passengers?:int[1..9]=1 "for {v} people/for {v} passengers"; cabin?:enum(economy|premium|business|first!cargo|cockpit)=economy "in {v}"
book_hotel~lodging | Book a hotel room in a city. | book a hotel in {city};find me a hotel in {city};reserve a room in {city} | city:str@city; check_in:date "from {v}/checking in {v}"; nights:int[1..30] "for {v} nights"; guests?:int[1..8] "for {v} guests"
book_airbnb~lodging | Book a vacation rental in a city. | book a place in {city};find me a stay in {city};reserve accommodation in {city} | city:str@city; check_in:date "from {v}/checking in {v}"; nights:int[1..30] "for {v} nights"; guests?:int[1..16] "for {v} guests"
check_flight_status | Check a flight's status by flight number. | check flight {flight};?is {flight} on time;status of flight {flight} | flight:str@code
check_in_flight | Check in for a flight. | check me in for {flight};check in for flight {flight} | flight:str@code; seat_preference?:enum(window|aisle|middle) "with a {v} seat/{v} seat please"
rent_car | Rent a car at a location. | rent a car in {city};book a rental car in {city};get me a car in {city} | city:str@city; pickup:date "from {v}/picking up {v}"; days:int[1..60] "for {v} days"; category?:enum(economy|compact|suv|van|luxury|convertible!tank|limo_xxl) "a {v}/{v} class"
get_visa_requirements | Visa requirements for a destination country. | ?do I need a visa for {country};check visa rules for {country};visa requirements for {country} | country:str@country; citizenship?:str@country "as a citizen of {v}/with a {v} passport"
find_attractions | Find things to do in a city. | ?what to do in {city};find attractions in {city};things to see in {city} | city:str@city; category?:enum(museums|parks|food|nightlife|shopping|history) "{v}"
book_train | Book a train ticket between cities. | book a train;get a train ticket;find trains | origin:str@city "from {v}"; destination:str@city "to {v}"; date:date "{v}"; time?:time "around {v}"
convert_timezone | Convert a time between cities' time zones. | convert {time} in {from_city} to {to_city} time;?what time is {time} {from_city} time in {to_city} | time:time; from_city:str@city; to_city:str@city
get_travel_advisory | Travel safety advisory for a country. | ?is it safe to travel to {country};get the travel advisory for {country} | country:str@country
book_ride~ride | Book a ride with a ride-hailing app. | get me a ride to {destination};book a ride to {destination};call a cab to {destination} | destination:str@place; pickup?:str@street "from {v}/pick me up at {v}"; seats?:int[1..6] "for {v}"
book_uber~ride | Request an Uber. | get me a ride to {destination};order an uber to {destination};book a car to {destination} | destination:str@place; pickup?:str@street "from {v}/pick me up at {v}"; seats?:int[1..6] "for {v}"
""",
    "food": """
order_food_delivery | Order food delivery from a restaurant. | order {dish} from {restaurant};get {dish} delivered;order {dish} | dish:str@dish; restaurant:str@restaurant "from {v}"; quantity?:int[1..20] "x{v}/{v} portions of it"
reserve_table | Reserve a table at a restaurant. | book a table at {restaurant};reserve a table at {restaurant};get us a table at {restaurant} | restaurant:str@restaurant; party_size:int[1..20] "for {v}/for {v} people"; date:date "{v}"; time:time "at {v}"
find_restaurants | Find restaurants by cuisine in a city. | find {cuisine} restaurants;?where can I get {cuisine} food;look for {cuisine} places | cuisine:str@cuisine; city:str@city "in {v}/near {v}"; price_level?:int[1..4] "at price level {v}"
get_recipe | Find a recipe for a dish. | find a recipe for {dish};?how do I make {dish};give me a {dish} recipe | dish:str@dish; servings?:int[1..20] "for {v} servings/for {v} people"; diet?:enum(vegan|vegetarian|gluten_free|keto) "that is {v}/{v} style"
get_nutrition_info | Nutrition facts for a food. | ?how many calories in {food};get nutrition facts for {food};?how much protein is in {food} | food:str@ingredient; grams?:int[1..2000] "per {v} grams/in {v} grams"
convert_cooking_units | Convert a cooking quantity between units. | convert {amount} {from_unit} to {to_unit};?how many {to_unit} is {amount} {from_unit} | amount:num[0.1..1000]; from_unit:enum(cups|tablespoons|teaspoons|grams|ounces|milliliters|pounds); to_unit:enum(cups|tablespoons|teaspoons|grams|ounces|milliliters|pounds)
track_delivery | Track the current food delivery. | ?where's my food;track my delivery;?when will my food arrive
plan_meals | Plan meals for a number of days. | plan my meals;make a meal plan;plan dinners | days:int[1..14] "for {v} days/for the next {v} days"; diet?:enum(vegan|vegetarian|pescatarian|keto|balanced) "{v}"
order_groceries | Order groceries for delivery. | order {items};get {items} delivered;buy {items} from the grocery store | items:list@ingredient; delivery_date?:date "for {v}/delivered {v}"
rate_restaurant | Rate a restaurant visit. | rate {restaurant};give {restaurant} {stars} stars;review {restaurant} | restaurant:str@restaurant; stars:int[1..5] "{v} stars/{v} out of 5"
wine_pairing | Suggest a wine to pair with a dish. | suggest a wine for {dish};?what wine goes with {dish};pair a wine with {dish} | dish:str@dish; budget?:num[5..500] "under {v} dollars"
""",
    "health": """
log_medication | Log that a medication was taken. | log my {medication};I took my {medication};record a dose of {medication} | medication:str@medication; dose_mg?:num[0.1..2000] "{v} mg/a {v}mg dose"
set_medication_reminder | Remind the user to take a medication daily. | remind me to take {medication};set a pill reminder for {medication} | medication:str@medication; time:time "at {v}/every day at {v}"
book_doctor_appointment | Book a doctor's appointment. | book a doctor's appointment;schedule a visit with {doctor};make an appointment with {doctor} | doctor:str@person "with Dr. {v}"; date:date "{v}"; reason?:str@symptom "for {v}/about my {v}"
log_symptom | Log a symptom with severity 1-10. | log a {symptom};record my {symptom};I have a {symptom} | symptom:str@symptom; severity:int[1..10] "severity {v}/at {v} out of 10/level {v}"
log_blood_pressure | Log a blood pressure reading. | log my blood pressure;record blood pressure;my blood pressure is {systolic} over {diastolic} | systolic:int[60..250] "{v}/systolic {v}"; diastolic:int[30..150] "over {v}/diastolic {v}"
log_weight | Log body weight. | log my weight;record my weight;I weigh {weight_kg} kg | weight_kg:num[20..350] "{v} kg/as {v} kilos/at {v} kg"
log_water | Log water intake. | log water;I drank {ml} ml of water;add water | ml:int[50..5000] "{v} ml/{v} milliliters"
find_pharmacy | Find an open pharmacy nearby. | find a pharmacy;?where's an open pharmacy;look for a drugstore | open_now?:bool "that's open now|even if closed"; city?:str@city "in {v}"
log_sleep | Log last night's sleep. | log my sleep;I slept {hours} hours;record sleep | hours:num[0..24] "{v} hours/for {v} hours"; quality?:enum(poor|fair|good|great) "it was {v}/{v} quality"
get_lab_results | Get the latest lab results. | get my lab results;?are my test results in;show my blood work | test?:enum(blood|cholesterol|glucose|thyroid|vitamin_d) "for {v}/the {v} test"
refill_prescription | Request a prescription refill. | refill my {medication};order more {medication};renew my {medication} prescription | medication:str@medication; pharmacy?:str@company "at {v}"
""",
    "fitness": """
start_workout | Start tracking a workout. | start a {activity} workout;begin {activity};track my {activity} | activity:str@exercise; goal_minutes?:int[5..300] "for {v} minutes"
log_workout | Log a completed workout. | log a {activity} workout;record my {activity};I did {activity} | activity:str@exercise; minutes:int[1..600] "for {v} minutes/{v} minutes"; calories?:int[1..5000] "burned {v} calories"
log_run | Log a run with distance and time. | log a run;record my run;I ran {distance_km} km | distance_km:num[0.1..100] "of {v} km/{v} kilometers"; minutes:int[1..600] "in {v} minutes"
set_step_goal | Set a daily step goal. | set my step goal;change my daily steps target | steps:int[1000..50000] "to {v}/to {v} steps"
get_activity_summary | Show activity summary for a period. | show my activity;?how active was I;get my fitness summary | period:enum(today|week|month|year) "for {v}/this {v}"
log_strength_set | Log a strength training set. | log {reps} reps of {exercise};record a set of {exercise} | exercise:enum(squat|bench_press|deadlift|pull_up|push_up|overhead_press|row) "of {v}"; reps:int[1..100] "{v} reps/for {v} reps"; weight_kg?:num[0..500] "at {v} kg/with {v} kilos"
set_heart_rate_zone | Set the target heart rate zone. | set my heart rate zone;change my target zone | zone:int[1..5] "to zone {v}/to {v}"
book_fitness_class | Book a class at the gym. | book a {class_type} class;sign me up for {class_type};reserve a spot in {class_type} | class_type:str@exercise; date:date "{v}"; time?:time "at {v}"
get_heart_rate | Read the current heart rate. | ?what's my heart rate;check my pulse;read my heart rate
create_training_plan | Create a training plan for a race. | make a training plan for a {race};build me a {race} plan;create a plan for my {race} | race:enum(5k|10k|half_marathon|marathon|triathlon!ultra_1000k) "for a {v}"; weeks:int[4..52] "over {v} weeks/for {v} weeks"
""",
    "sports": """
get_score | Get the latest score of a team's game. | ?what's the score of the {team} game;?did the {team} win;get the {team} score | team:str@team
get_standings | League standings. | show the {league} standings;?who's top of the {league};get the {league} table | league:enum(premier_league|la_liga|bundesliga|serie_a|nba|nfl|mlb|nhl|mls!galactic_league)
get_schedule | A team's upcoming games. | ?when do the {team} play next;show the {team} schedule;get the upcoming games for {team} | team:str@team; games?:int[1..10] "next {v} games/the next {v}"
get_player_stats | Season statistics for a player. | get stats for {player};?how is {player} doing this season;show {player}'s stats | player:str@person; season?:int[1990..2026] "for {v}/in {v}"
follow_team | Follow a team for notifications. | follow the {team};notify me about {team} games;subscribe to {team} | team:str@team; alerts?:enum(all|scores_only|final_only) "with {v} alerts"
buy_game_tickets | Buy tickets to a team's next home game. | get tickets for the {team} game;buy {count} tickets to see {team};book seats at the {team} game | team:str@team; count:int[1..10] "{v} tickets/for {v} of us"
get_match_highlights | Highlights video of a match. | show highlights of the {team} game;play the {team} highlights | team:str@team; date?:date "from {v}"
get_sport_news | Latest news for a sport. | get {sport} news;?what's happening in {sport};latest {sport} headlines | sport:str@sport
""",
    "automotive": """
start_car | Remotely start the car and set the cabin temperature. | start my car;warm up the car;remote start the car | temperature?:int[60..85] "and set it to {v} degrees/at {v} degrees"
lock_car | Lock the car remotely. | lock my car;lock the car doors;make sure the car is locked
check_fuel_level | Check the fuel or charge level. | ?how much gas do I have;check the fuel level;?what's my battery level;?how much charge is left
set_charge_limit | Set the EV charging limit. | set the charge limit;charge the car;limit charging | percent:int[50..100] "to {v} percent/to {v}%"
find_ev_charger | Find EV chargers nearby. | find a charger;?where can I charge;find an ev charging station | connector?:enum(ccs|chademo|type2|tesla|j1772!usb|aa_battery) "with {v} connector/{v}"; min_kw?:int[3..350] "at least {v} kw"
schedule_car_service | Book a car service appointment. | book a car service;schedule maintenance for my {car};get my {car} serviced | car:str@car; service:enum(oil_change|tire_rotation|inspection|brake_check|battery_check) "for an {v}/{v}"; date:date "{v}"
honk_horn | Honk and flash the car to locate it. | honk the horn;flash the lights;?where did I park | times?:int[1..5] "{v} times"
get_tire_pressure | Read tire pressure. | check my tire pressure;?are my tires ok;read the tire pressure
set_seat_heater | Set a seat heater level. | turn on the {seat} seat heater;heat the {seat} seat;warm up the {seat} seat | seat:enum(driver|passenger|rear_left|rear_right); level:int[0..3] "to {v}/on level {v}"
open_trunk | Open the trunk or frunk. | open the {trunk};pop the {trunk} | trunk:enum(trunk|frunk)
log_fuel_purchase | Log a fuel purchase. | log a fill-up;I bought {liters} liters of gas;record fuel | liters:num[1..200] "of {v} liters/{v} liters"; price:money "for {v}"
""",
}
