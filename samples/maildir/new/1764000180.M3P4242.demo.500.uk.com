Return-Path: <admin@bluesky.example>
Authentication-Results: mx.500.uk.com; dkim=pass header.d=bluesky.example header.s=google; spf=pass smtp.mailfrom=admin@bluesky.example
Received: from mail.bluesky.example (mail.bluesky.example [192.0.2.13])
	by mx.500.uk.com (Postfix) with ESMTPS id 4Zq0003X
	for <support@500.uk.com>; Mon, 23 Nov 2026 09:03:11 +0000 (GMT)
From: Priya Shah <admin@bluesky.example>
To: "SIP Trunk Plus Support" <support@500.uk.com>
Subject: =?UTF-8?Q?2FA_setup_=E2=80=93_Blue_Sky_Comms?=
Date: Mon, 23 Nov 2026 09:03:05 +0000
Message-ID: <1764000003.demo0003@bluesky.example>
X-Mailer: Gmail
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Hi there,

Please enable 2FA on our reseller account. All our users have mobile number=
s registered.

Thanks,
Priya
