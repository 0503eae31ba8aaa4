"""Demo data for `make run`: the accounts README.md lists, and more of the same kind."""

import random

from sqlalchemy import func, select

from .extensions import db
from .models import Account, AccountContact

DEMO_EMAIL = "demo@lkabonent.test"
# A contact of many accounts at once (a landlord), to show the paged table.
LANDLORD_EMAIL = "arenda@lkabonent.test"

KNOWN_ACCOUNTS = [
    ("1080000001", "Иванов", Account.ACTIVE, "г. Симферополь, ул. Киевская, д. 12, кв. 45"),
    ("1080000002", "Петрова", Account.ACTIVE, "г. Симферополь, пр. Победы, д. 87, кв. 3"),
    ("1080000003", "Семёнов", Account.ACTIVE, "г. Ялта, ул. Пушкинская, д. 5, кв. 17"),
    ("1080000004", "Кузнецов", Account.CLOSED, "г. Керчь, ул. Ленина, д. 30, кв. 8"),
]
MORE_ACCOUNTS = 30
LANDLORD_ACCOUNTS = 12

TOWNS = [
    "г. Симферополь",
    "г. Керчь",
    "г. Евпатория",
    "г. Феодосия",
    "г. Ялта",
    "г. Джанкой",
    "г. Алушта",
    "г. Саки",
    "г. Бахчисарай",
    "г. Судак",
    "г. Старый Крым",
    "г. Армянск",
    "г. Красноперекопск",
    "пгт Черноморское",
    "пгт Гурзуф",
]
STREETS = [
    "ул. Гагарина",
    "ул. Кирова",
    "ул. Севастопольская",
    "ул. Набережная",
    "ул. Садовая",
    "ул. Лермонтова",
    "ул. Крымская",
    "ул. Морская",
    "ул. Чехова",
    "пр. Кирова",
    "ул. Горького",
    "ул. Толстого",
    "ул. Айвазовского",
    "ул. Шевченко",
    "бул. Франко",
]
SURNAMES = [
    "Смирнов",
    "Попова",
    "Васильев",
    "Соколова",
    "Михайлов",
    "Новикова",
    "Фёдоров",
    "Морозова",
    "Волков",
    "Алексеева",
    "Лебедев",
    "Козлова",
    "Егоров",
    "Павлова",
    "Степанов",
    "Николаева",
    "Орлов",
    "Андреева",
    "Макаров",
    "Захарова",
    "Зайцев",
    "Соловьёва",
    "Борисов",
    "Яковлева",
    "Григорьев",
    "Романова",
    "Воробьёв",
    "Сергеева",
    "Куликов",
    "Фролова",
    "Бондаренко",
    "Ткаченко",
    "Шевчук",
    "Абдуллаев",
    "Аблаева",
]


def seed(seed_value: int = 2026) -> int:
    """Fill an empty database with the demo accounts; return how many were added (0 if any)."""
    if db.session.scalar(select(func.count(Account.id))):
        return 0
    rng = random.Random(seed_value)
    accounts = [
        Account(number=number, owner_surname=surname, status=status, address=address)
        for number, surname, status, address in KNOWN_ACCOUNTS
    ]
    for index in range(MORE_ACCOUNTS):
        flat = f", кв. {rng.randint(1, 120)}" if rng.random() < 0.8 else ""
        accounts.append(
            Account(
                number=f"10800{len(KNOWN_ACCOUNTS) + index + 1:05d}",
                owner_surname=rng.choice(SURNAMES),
                status=Account.CLOSED if rng.random() < 0.1 else Account.ACTIVE,
                address=f"{rng.choice(TOWNS)}, {rng.choice(STREETS)}, "
                f"д. {rng.randint(1, 150)}{flat}",
            )
        )
    db.session.add_all(accounts)
    db.session.flush()
    contacts = [(accounts[0], DEMO_EMAIL), (accounts[1], DEMO_EMAIL)] + [
        (account, LANDLORD_EMAIL)
        for account in accounts[len(KNOWN_ACCOUNTS) : len(KNOWN_ACCOUNTS) + LANDLORD_ACCOUNTS]
    ]
    db.session.add_all(
        AccountContact(account_id=account.id, email=email) for account, email in contacts
    )
    db.session.commit()
    return len(accounts)
