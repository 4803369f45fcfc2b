# Lonceng — katalog Bahasa Indonesia.
# Jenis notifikasi: nilai pesan adalah teks daftar lonceng, `.title` adalah judul toast.

## Tab Umum

reminder = Pengingat: { $object_type ->
        [deal] deal
        [ticket] tiket
       *[task] tugas
    } { $object_name }
    .title = Pengingat
mention = { $actor } menyebut Anda di { $target ->
        [deal] deal { $object_name }
        [ticket] tiket { $object_name }
        [task_detail] Detail/Rencana tugas { $object_name }
       *[task] tugas { $object_name }
    }
    .title = Sebutan baru
deal-owner-assigned = { $actor } menjadikan Anda pemilik deal { $deal_name }
    .title = Deal ditugaskan kepada Anda
deal-owner-auto-assigned = Anda otomatis ditugaskan sebagai pemilik deal { $deal_name } (dari { $source ->
        [chatbot] chatbot
       *[inbox] Inbox
    })
    .title = Deal ditugaskan kepada Anda
ticket-assigned = { $actor } menugaskan tiket { $ticket_name } kepada Anda
    .title = Tiket ditugaskan kepada Anda
task-assigned = { $actor } menugaskan tugas { $task_name } kepada Anda
    .title = Tugas ditugaskan kepada Anda
task-checklist-item-assigned = { $actor } menugaskan item checklist { $item_name } di tugas { $task_name } kepada Anda
    .title = Item checklist ditugaskan kepada Anda
ticket-status-changed = { $actor } memindahkan tiket { $ticket_name } ke { $status }
    .title = Tiket diperbarui
task-status-changed = { $actor } memindahkan tugas { $task_name } ke { $status }
    .title = Tugas diperbarui
export-ready = Ekspor { $count } { $object_type ->
        [deals] deal
        [tickets] tiket
        [tasks] tugas
        [contacts] kontak
        [companies] perusahaan
        [products] produk
       *[other] data
    } Anda siap diunduh
    .title = Ekspor siap
import-processed = Impor { $object_type ->
        [deals] deal
        [tickets] tiket
        [tasks] tugas
        [contacts] kontak
        [companies] perusahaan
        [products] produk
       *[other] data
    } selesai: { $success_count } baris berhasil, { $failure_count ->
        [0] tidak ada yang gagal
       *[other] { $failure_count } gagal
    }
    .title = Impor diproses
automation-result = Aksi otomatis { $rule_name } { $outcome ->
        [failed] gagal dijalankan pada
       *[succeeded] dijalankan pada
    } { $object_name }
    .title = Aksi otomatis
crm-notice = { $description }
    .title = Qontak CRM · { $origin }

## Tab Inbox

conversation-assigned = { $actor } menugaskan percakapan dengan { $contact_name } di { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    } kepada Anda
    .title = Percakapan ditugaskan
conversation-resolved = { $actor } menyelesaikan percakapan dengan { $contact_name } di { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
    .title = Percakapan diselesaikan
contact-blocked = { $actor } memblokir kontak { $contact_name }
    .title = Kontak diblokir
contact-unblocked = { $actor } membuka blokir kontak { $contact_name }
    .title = Blokir kontak dibuka

## Tab Persetujuan

deal-approval-requested = { $actor } meminta persetujuan Anda untuk deal { $deal_name } ({ $amount })
    .title = Permintaan persetujuan
deal-approval-approved = { $actor } menyetujui deal { $deal_name }
    .title = Deal disetujui
deal-approval-rejected = { $actor } menolak deal { $deal_name }
    .title = Deal ditolak
expense-approval-requested = { $actor } meminta persetujuan Anda untuk biaya { $expense_name } ({ $amount })
    .title = Permintaan persetujuan
expense-approval-approved = { $actor } menyetujui biaya { $expense_name }
    .title = Biaya disetujui
expense-approval-rejected = { $actor } menolak biaya { $expense_name }
    .title = Biaya ditolak

## Pesan chat masuk (hanya toast, NC-R4)

chat-message = { $preview }
    .title = { $sender } di { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
chat-messages = { $count } pesan baru dari { $sender }: { $preview }
    .title = { $sender } di { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
# ORG-5: isi toast saat layar terkunci (atau selalu, sesuai pilihan agen).
chat-private = { $count ->
        [one] Pesan baru
       *[other] { $count } pesan baru
    } di { $channel ->
        [whatsapp] WhatsApp
        [instagram] Instagram
        [facebook] Facebook
        [telegram] Telegram
        [line] LINE
        [webchat] web chat
        [tokopedia] Tokopedia
        [email] email
       *[other] chat
    }
toast-private = Buka Lonceng untuk melihat detailnya.

## Tab dan filter kategori

tab-general = Umum
tab-inbox = Inbox
tab-approval = Persetujuan
category-all = Semua
category-reminder = Pengingat
category-mention = Sebutan
category-assignment = Penugasan
category-update = Pembaruan
category-download_upload = Unduh & unggah
category-chat_assignment = Penugasan
category-resolved = Diselesaikan
category-blocked_contact = Kontak diblokir
category-deals = Deal
category-expenses = Biaya

## Jendela lonceng

app-name = Lonceng
bell-title = Notifikasi
unread-count = { $count ->
        [0] Tidak ada notifikasi belum dibaca
       *[other] { $count } notifikasi belum dibaca
    }
show-unread-only = Tampilkan yang belum dibaca saja
mark-all-read = Tandai semua sudah dibaca
mark-all-read-scope = Tandai { $count } sudah dibaca · { $scope }
mark-all-read-done = { $count } notifikasi ditandai sudah dibaca
undo = Urungkan
quarantined-count = { $count } notifikasi tidak dapat ditampilkan
quarantined-why = Mengapa?
link-refused = Tautan ini menuju { $host }, yang bukan alamat Qontak, jadi tidak dibuka.
mark-read = Tandai sudah dibaca
mark-unread = Tandai belum dibaca
section-today = Hari ini
section-older = Sebelumnya
empty-tab = Belum ada apa-apa di sini. Notifikasi baru muncul saat tiba.
empty-unread = Semua sudah Anda baca.
empty-filter = Tidak ada notifikasi di kategori ini.
empty-inbox-crm = Inbox memerlukan server Lonceng: percakapan yang ditugaskan dan diselesaikan hanya sampai ke desktop melalui webhook Qontak, yang diterima oleh server. Dalam mode CRM langsung, Umum dan Persetujuan berfungsi; minta server Lonceng kepada administrator Anda untuk melihat Inbox.

## Koneksi (MW-1, MW-2)

status-connected = Terhubung
status-reconnecting = Menghubungkan ulang…
status-reconnecting-at = Qontak tidak dapat dijangkau. Mencoba lagi pukul { $time }.
status-maintenance-until = Qontak sedang dalam pemeliharaan hingga { $time }. Daftar Anda tetap tersedia.
status-offline = Luring. Daftar Anda tetap tersedia.
last-synced = Terakhir disinkronkan { $time }
maintenance-announced = Pemeliharaan terjadwal: { $start } – { $end }
late-summary = { $count } notifikasi tiba saat Qontak tidak tersedia
gap-expired = Beberapa item { $tab ->
        [inbox] Inbox
        [approval] Persetujuan
       *[general] Umum
    } mungkin kedaluwarsa saat Anda luring.

## Penjelasan toast ("mengapa tidak ada toast?")

why-toasted = Ditampilkan sebagai notifikasi desktop.
why-chat-focused = Tanpa notifikasi desktop: Anda sedang aktif di chat Qontak.
why-muted = Tanpa notifikasi desktop: kategori ini dibisukan.
why-paused = Tanpa notifikasi desktop: notifikasi sedang dijeda.
why-already-read = Tanpa notifikasi desktop: sudah dibaca.
why-late = Tanpa notifikasi desktop: tiba terlambat, setelah Qontak tidak tersedia.
more-summary = { $count } notifikasi lain menunggu di Lonceng
paused-summary = { $count } notifikasi tiba saat notifikasi dijeda

## Menu tray

tray-open = Buka
tray-open-bell = Buka lonceng
tray-nothing-unread = Tidak ada yang belum dibaca
tray-mark-all-read = Tandai semua sudah dibaca
tray-pause = Jeda notifikasi
tray-pause-hour = Selama 1 jam
tray-pause-tomorrow = Sampai besok
tray-resume = Lanjutkan notifikasi
tray-language = Bahasa
tray-autostart = Mulai saat login
tray-update = Pasang pembaruan { $version }
update-available = Lonceng { $version } sudah tersedia.
update-install = Pasang dan mulai ulang
update-failed = Pembaruan tidak terpasang: { $error }
settings-update-url = Alamat pembaruan (dari administrator Anda; kosong: tanpa pembaruan)
settings-proxy = Proxy (kosong: milik komputer ini; direct: tanpa proxy; atau http://user:sandi@proxy:port)
settings-shortcut = Pintasan keyboard untuk membuka lonceng (kosong: tidak ada)
settings-shortcut-invalid = { $shortcut } bukan pintasan keyboard: tulis seperti Ctrl+Alt+N.
settings-shortcut-taken = { $shortcut } sudah dipakai desktop atau aplikasi lain: pilih yang lain.
settings-shortcut-unsupported = Desktop ini (Wayland) tidak mengizinkan aplikasi memakai pintasan keyboard: di pengaturan keyboard-nya, atur { $shortcut } untuk menjalankan perintah lonceng, yang membuka jendela Lonceng.
tray-settings = Pengaturan…
tray-quit = Keluar dari Lonceng

## Jam tenang, tunda, pencarian, suara (issue 15)

why-quiet-hours = Tanpa notifikasi desktop: jam tenang.
why-system-quiet = Tanpa notifikasi desktop: mode Jangan Ganggu di komputer Anda aktif.
open-conversation = Buka percakapan
mute-conversation = Bisukan percakapan ini
tray-quiet-hours = Jam tenang
tray-quiet-until = Tenang sampai { $time }
tray-paused-until = Dijeda sampai { $time }
tray-system-quiet = Jangan Ganggu aktif: notifikasi menunggu
tray-maintenance = Sedang pemeliharaan
tray-maintenance-until = Pemeliharaan hingga { $time }
tray-try-now = Coba sekarang
settings-quiet = Jam tenang
settings-quiet-enabled = Tahan notifikasi desktop selama jam tenang
settings-quiet-from = Dari
settings-quiet-to = Sampai
settings-quiet-days = Pada hari
settings-quiet-breakthrough = Tetap tampilkan ini, tanpa suara
settings-quiet-note = Yang tiba selama itu menunggu di daftar; satu ringkasan muncul saat jam tenang berakhir.
day-mon = Sen
day-tue = Sel
day-wed = Rab
day-thu = Kam
day-fri = Jum
day-sat = Sab
day-sun = Min
settings-sound = Suara
settings-sound-on = Putar suara bersama notifikasi desktop
settings-sound-silent = Tanpa suara untuk kategori ini
settings-approvals-break-dnd = Persetujuan tetap tampil saat mode Jangan Ganggu komputer ini aktif
settings-message-text = Tampilkan nama dan isi pesan di notifikasi
settings-message-text-always = Selalu
settings-message-text-not-while-locked = Tidak saat layar terkunci
settings-message-text-never = Tidak pernah
snooze = Tunda
snooze-hour = Selama 1 jam
snooze-afternoon = Siang ini, { $time }
snooze-tomorrow = Besok, { $time }
snooze-pick = Pilih waktu
snooze-apply = Tunda sampai saat itu
snoozed-view = Ditunda
snoozed-count = { $count } ditunda
snoozed-until = Kembali pukul { $time }
snooze-cancel = Batalkan tunda
snoozed-empty = Tidak ada yang ditunda. Notifikasi yang ditunda kembali ke sini pada waktunya.
snooze-done = Ditunda sampai { $time }
snooze-past = Pilih waktu yang akan datang.
search-placeholder = Cari notifikasi
search-label = Cari dalam 90 hari terakhir
search-everywhere = Di semua tab
search-none = Tidak ada notifikasi yang cocok dengan { $query }.
search-results = { $count } hasil
search-clear = Hapus pencarian
gap-dismiss = Tutup
undo-too-late = Terlambat untuk dibatalkan: perubahan sudah dikirim ke Qontak.

## Pengaturan dan penjelasan di jendela

why-unknown = Tidak ada keputusan yang tercatat untuk notifikasi ini di komputer ini.
why-label = Mengapa tidak ada notifikasi desktop?
settings-toasts = Notifikasi desktop untuk
settings-chat-messages = Pesan chat masuk
settings-chat-mutes = Toast chat
settings-chat-channels = Kanal
settings-muted-none = Tidak ada percakapan yang dibisukan. "Bisukan percakapan ini" pada toast chat membisukannya sampai diselesaikan.
channel-whatsapp = WhatsApp
channel-instagram = Instagram
channel-facebook = Facebook
channel-telegram = Telegram
channel-line = LINE
channel-webchat = Web chat
channel-tokopedia = Tokopedia
channel-email = Email
mute-hour = Dibisukan 1 jam
mute-resolved = Dibisukan sampai diselesaikan
mute-always = Selalu dibisukan
mute-unmute = Bunyikan lagi
settings-server = Alamat server
settings-token = Token masuk
settings-token-keyring = Disimpan di keyring sistem.
settings-token-file = Tidak ada layanan keyring: disimpan di berkas yang hanya bisa Anda baca.
settings-token-none = Belum masuk.
settings-chat-window = Judul jendela web chat mengandung
settings-save = Simpan
settings-demo = Mode demo: server bawaan dengan aktivitas simulasi.
settings-source = Notifikasi berasal dari
settings-source-server = Server Lonceng (semua tab)
settings-source-crm = Langsung dari Qontak CRM (Umum dan Persetujuan)
settings-crm-warning = Ini adalah kredensial perusahaan Anda dari Mekari Developer Center: siapa pun yang memilikinya dapat membaca notifikasi CRM semua agen. Masukkan hanya di komputer Anda sendiri; secret disimpan di keyring sistem dan tidak pernah ditampilkan lagi.
settings-crm-base = Alamat API Mekari
settings-crm-client-id = Client id (username HMAC)
settings-crm-secret = Client secret
settings-crm-sso = SSO user id CRM Anda
settings-crm-secret-keyring = Disimpan di keyring sistem.
settings-crm-secret-file = Tidak ada layanan keyring: disimpan di berkas yang hanya bisa Anda baca.
settings-crm-secret-none = Belum diisi.
settings-account = Organisasi Anda
settings-sign-in = Masuk
settings-sign-in-again = Masuk lagi
settings-signing-in = Selesaikan proses masuk di browser Anda…
settings-signed-in-as = Masuk sebagai { $user }
settings-sign-out = Keluar
settings-signed-out = Anda dikeluarkan oleh organisasi Anda.
settings-sign-in-first = Isi alamat server organisasi Anda, lalu masuk.
settings-sign-in-needed = Masuk ke organisasi Anda untuk melihat notifikasi Anda.
sign-in-link-ask = Masuk ke { $server }? Lonceng lalu menampilkan notifikasi Anda dari server ini.
sign-in-link-no = Nanti saja
settings-advanced = Lanjutan: token dari admin Anda
settings-locked = Ditetapkan oleh organisasi Anda
settings-autostart-unmanaged = Mulai saat login diatur oleh Lonceng yang terpasang; salinan ini (hasil build atau demo) tidak mengubah item login Anda.

pin-window = Biarkan jendela ini tetap terbuka

## lonceng doctor (dan Pengaturan → Diagnosis)
doctor-title = Diagnosis
doctor-run = Diagnosis
doctor-running = Memeriksa…
doctor-save-report = Simpan laporan untuk IT
doctor-report-saved = Tersimpan untuk IT: { $path } (token, nama, dan isi pesan dihapus).
doctor-level-ok = baik
doctor-level-warning = peringatan
doctor-level-problem = masalah
doctor-check-notifications = Notifikasi
doctor-check-tray = Ikon tray
doctor-check-display = Layar
doctor-check-lock = Kunci layar
doctor-check-keyring = Keyring
doctor-check-autostart = Mulai saat login
doctor-check-network = Jaringan
doctor-check-server = Server
doctor-check-token = Masuk
doctor-check-stream = Stream langsung
doctor-check-clock = Jam
doctor-check-quarantine = Tidak ditampilkan
doctor-check-policy = Kebijakan organisasi
doctor-notifications-ok = { $name } { $version } menampilkan notifikasi; fiturnya: { $caps }.
doctor-notifications-no-actions = { $name } { $version } menampilkan notifikasi tanpa tombol atau klik ({ $caps }): notifikasi tidak bisa membuka halamannya.
doctor-notifications-no-actions-fix = Buka item dari jendela lonceng, atau gunakan layanan notifikasi yang mendukung aksi (GNOME Shell, KDE Plasma, dunst, mako).
doctor-notifications-missing = Tidak ada layanan notifikasi yang menjawab di session bus: notifikasi tidak bisa muncul.
doctor-notifications-missing-fix = Jalankan layanan notifikasi desktop Anda (GNOME Shell, KDE Plasma, dunst, mako, xfce4-notifyd), lalu mulai ulang Lonceng.
doctor-notifications-windows = Notifikasi Windows, atas nama Lonceng sendiri.
doctor-notifications-windows-unregistered = Pintasan Lonceng di menu Start tidak ada: Windows menampilkan notifikasinya tanpa nama dan mengabaikan kliknya.
doctor-notifications-windows-unregistered-fix = Pasang Lonceng dengan installer-nya (atau perbaiki dari Apps & features).
doctor-tray-ok = Panel menampilkan ikon tray Lonceng.
doctor-tray-no-host = Layanan tray berjalan, tetapi tidak ada panel yang menampilkan ikonnya.
doctor-tray-missing = Desktop ini tidak punya system tray (StatusNotifierWatcher): Lonceng tidak punya ikon; jalankan `lonceng` lagi untuk membuka jendelanya.
doctor-tray-fix = Tambahkan system tray (status notifier) ke panel Anda, lalu mulai ulang Lonceng.
doctor-tray-fix-gnome = GNOME menyembunyikan ikon tray: pasang dan aktifkan ekstensi "AppIndicator and KStatusNotifierItem Support" (paket gnome-shell-extension-appindicator), lalu login ulang.
doctor-tray-windows = Area notifikasi di taskbar.
doctor-display-x11 = X11: jendela yang aktif terlihat, jadi notifikasi diam selama web chat ada di depan.
doctor-display-x11-no-active = X11, tetapi tidak ada window manager yang melaporkan jendela aktif: Lonceng tidak tahu apakah web chat ada di depan.
doctor-display-x11-no-active-fix = Jalankan window manager yang mengisi _NET_ACTIVE_WINDOW; sementara itu laporan kehadiran web chat yang menentukan.
doctor-display-wayland = Wayland menyembunyikan jendela aktif dari aplikasi: laporan kehadiran web chat yang menentukan apakah notifikasi muncul.
doctor-display-wayland-fix = Biarkan web chat Qontak terbuka di tab browser, atau masuk ke sesi X11.
doctor-display-windows = Windows: jendela depan terlihat, jadi notifikasi diam selama web chat ada di depan.
doctor-display-missing = Tidak ada layar (DISPLAY maupun WAYLAND_DISPLAY tidak diatur): Lonceng adalah aplikasi desktop.
doctor-display-missing-fix = Jalankan Lonceng dari sesi desktop Anda.
doctor-lock-ok = Status kunci layar diketahui dari { $source }: notifikasi menunggu selama layar terkunci.
doctor-lock-missing = Tidak ada layanan kunci layar yang menjawab: notifikasi bisa muncul di atas layar yang terkunci.
doctor-lock-missing-fix = Gunakan pengunci layar yang mendukung org.freedesktop.ScreenSaver, atau LockedHint dari systemd-logind.
doctor-keyring-ok = Rahasia disimpan di { $store }.
doctor-keyring-missing = Tidak ada layanan keyring: token masuk disimpan di berkas yang hanya bisa Anda baca.
doctor-keyring-missing-fix = Pasang dan buka kunci keyring Secret Service (gnome-keyring, KeePassXC), lalu simpan token lagi.
doctor-autostart-unmanaged = Salinan ini tidak terpasang (folder build atau demo): item login Anda tidak diubah.
doctor-autostart-on = Lonceng mulai saat login, tersembunyi di tray.
doctor-autostart-off = Mulai saat login dimatikan.
doctor-autostart-missing = Mulai saat login aktif, tetapi entrinya tidak ada.
doctor-autostart-other = Entri login menjalankan program lain: { $command }
doctor-autostart-stray = Mulai saat login dimatikan, tetapi entri login masih ada: { $command }
doctor-autostart-fix = Matikan lalu nyalakan lagi "Mulai saat login" di menu tray.
doctor-server-demo = Server demo bawaan ({ $url }).
doctor-server-none = Alamat server belum diisi.
doctor-server-none-fix = Masukkan alamat server Lonceng organisasi Anda dan token masuk Anda di Pengaturan.
doctor-network-ok = Proxy: { $proxy }. Sertifikat tepercaya: { $trust }.
doctor-network-pac = Pengaturan proxy Anda memakai berkas konfigurasi otomatis ({ $pac }) yang tidak bisa dibaca Lonceng: Lonceng tersambung tanpa proxy.
doctor-network-pac-fix = Jika server tidak bisa dijangkau, minta alamat proxy ke bagian TI dan isikan di Pengaturan pada kolom Proxy.
doctor-network-trust-failed = Sertifikat tepercaya komputer ini tidak bisa dibaca ({ $error }): sambungan aman bisa gagal.
doctor-network-trust-failed-fix = Minta bagian TI memeriksa penyimpanan sertifikat komputer (di Linux, paket ca-certificates).
doctor-server-ok = { $url } menjawab.
doctor-server-crm = API Qontak CRM menjawab ({ $url }).
doctor-server-unreachable = { $url } tidak bisa dihubungi: { $error }
doctor-server-unreachable-fix = Periksa jaringan, VPN atau proxy, dan alamat di Pengaturan; administrator Anda bisa memeriksa /healthz server.
doctor-token-ok = Sudah masuk: server mengenali komputer ini ({ $user }).
doctor-token-missing = Belum masuk.
doctor-token-missing-fix = Masuk ke organisasi Anda: pilih Masuk di menu tray atau di Pengaturan.
doctor-token-rejected = Server menolak proses masuk komputer ini.
doctor-token-rejected-fix = Organisasi Anda mungkin telah mengeluarkan komputer ini: masuk lagi (menu tray atau Pengaturan).
doctor-token-unchecked = Proses masuk tidak bisa dicoba (server tidak menjawab).
doctor-token-crm = Client secret CRM perusahaan sudah disimpan.
doctor-token-crm-missing = Client secret CRM belum ada.
doctor-token-crm-missing-fix = Masukkan client id dan secret di Pengaturan.
doctor-stream-ok = Stream langsung terbuka: notifikasi baru langsung tiba.
doctor-stream-off = Server tidak menyediakan stream langsung: Lonceng menanyakan perubahan setiap beberapa detik.
doctor-stream-polled = CRM tidak punya stream langsung: Lonceng menanyakannya setiap menit.
doctor-stream-failed = Stream langsung tidak terbuka ({ $error }): Lonceng menanyakan perubahan setiap beberapa detik.
doctor-stream-failed-fix = Proxy mungkin menahan atau memutus permintaan panjang: minta administrator Anda meneruskan /v1/stream tanpa buffer.
doctor-stream-unchecked = Stream langsung tidak bisa dicoba.
doctor-clock-ok = Jam komputer ini sesuai dengan jam server (selisih paling banyak { $seconds } detik).
doctor-clock-skew = Jam komputer ini berselisih { $seconds } detik dari jam server: waktu, jeda, dan proses masuk bisa salah.
doctor-clock-skew-fix = Aktifkan waktu otomatis (NTP) di pengaturan sistem Anda.
doctor-clock-unchecked = Jam tidak bisa dibandingkan (server tidak menjawab).
doctor-quarantine-ok = Semua notifikasi yang diterima bisa ditampilkan.
doctor-quarantine-some = { $count } notifikasi tidak bisa ditampilkan.
doctor-quarantine-some-fix = Notifikasi itu disimpan beserta alasannya di Pengaturan; beri tahu administrator Anda.
doctor-quarantine-unreadable = Salinan lokal daftar tidak bisa dibaca.
doctor-policy-none = Tidak ada kebijakan dari organisasi Anda: semua pengaturan milik Anda.
doctor-policy-ok = { $count } pengaturan ditetapkan oleh organisasi Anda ({ $source }).
doctor-policy-problems = { $count } entri kebijakan di { $source } tidak bisa dipakai; yang pertama: { $problem }
doctor-policy-problems-fix = Sisa kebijakan tetap berlaku. Beri tahu bagian TI Anda entri mana yang salah.

# Screen readers
sr-new-notifications = { $count } notifikasi baru, total { $unread } belum dibaca
